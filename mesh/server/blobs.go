package server

import (
	"fmt"
	"net/http"

	"github.com/endymail/endymail/mesh/proto"
)

// putBlob stores a sealed bundle, signed by an admin device, under its BlobID.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request) error {
	id, blobID := r.PathValue("id"), r.PathValue("blob")
	var env proto.Envelope
	if _, err := decode(w, r, proto.MaxBlobSize*2, &env); err != nil {
		return err
	}
	if len(env.Payload) > proto.MaxBlobSize {
		return fmt.Errorf("%w: bundle is %d bytes, limit %d", proto.ErrTooLarge, len(env.Payload), proto.MaxBlobSize)
	}
	if proto.BlobID(env.Payload) != blobID {
		return fmt.Errorf("%w: blob does not match its name %s", proto.ErrRejected, blobID)
	}
	if len(env.Signatures) != 1 {
		return fmt.Errorf("%w: blob needs exactly one signature", proto.ErrRejected)
	}
	if !s.limit.account(id) {
		return fmt.Errorf("%w: account %s", proto.ErrRateLimit, id)
	}
	a, unlock, err := s.account(r.Context(), id)
	if err != nil {
		return err
	}
	defer unlock()
	key, ok := a.st.SignerKey(env.Signatures[0].Key)
	if !ok {
		return fmt.Errorf("%w: blob signed by %s, not an admin of the account", proto.ErrRejected, env.Signatures[0].Key)
	}
	if err := env.Verify(proto.ContextBlob, key); err != nil {
		return fmt.Errorf("%w: blob: %v", proto.ErrRejected, err)
	}
	u, err := s.st.Usage(r.Context(), id)
	if err != nil {
		return storeErr(err, "usage of "+id)
	}
	raw := env.Marshal()
	if u.BlobBytes+int64(len(raw)) > s.lim.MaxBlobBytes {
		return fmt.Errorf("%w: account %s stores %d bundle bytes, limit %d", proto.ErrQuota, id, u.BlobBytes, s.lim.MaxBlobBytes)
	}
	if err := s.st.PutBlob(r.Context(), id, blobID, raw); err != nil {
		return storeErr(err, "blob "+blobID)
	}
	writeJSON(w, http.StatusCreated, struct{}{})
	return nil
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request) error {
	id, blobID := r.PathValue("id"), r.PathValue("blob")
	raw, err := s.st.Blob(r.Context(), id, blobID)
	if err != nil {
		return storeErr(err, "blob "+blobID)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(raw)
	return nil
}
