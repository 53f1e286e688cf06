//go:build !unix

package tbtest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// killProcess kills Thunderbird (its children are not tracked here).
func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
