package localapi

import "golang.org/x/sys/unix"

// peerUIDFd reads the peer's credentials with SO_PEERCRED.
func peerUIDFd(fd int) (int, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
