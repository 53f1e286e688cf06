package tbtest

import "testing"

func testSMIME(t *testing.T, base string)   { t.Skip("todo") }
func testOpenPGP(t *testing.T, base string) { t.Skip("todo") }
