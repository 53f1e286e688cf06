package localapi

import "golang.org/x/sys/unix"

// peerUIDFd reads the peer's credentials with LOCAL_PEERCRED.
func peerUIDFd(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
