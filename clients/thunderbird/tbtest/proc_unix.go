//go:build unix

package tbtest

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts Thunderbird and its child processes in their own
// process group so that [killProcess] ends them all.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcess kills cmd's process group.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
