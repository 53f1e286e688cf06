package thunderbird

// Test helpers for the external test package (e2e_test.go).
var (
	TestCA           = testCA
	TestMaterialFrom = testMaterialFrom
	TestLeaf         = testLeaf
)
