package main

import "context"

// runAgentLogin runs `endymail agent install|uninstall|status`.
func runAgentLogin(ctx context.Context, e *env, sub string, args []string) error {
	return usageErrorf("agent %s: unknown subcommand (want install, uninstall or status)", sub)
}
