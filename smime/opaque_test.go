package smime

import (
	"testing"

	"github.com/smallstep/pkcs7"
)

// opaqueSignedData builds an encapsulating (not detached) SignedData, as
// some clients send it, to exercise Verify's application/pkcs7-mime path.
func opaqueSignedData(t *testing.T, content []byte, id *Identity) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(id.Cert, id.Key, id.Chain, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}
