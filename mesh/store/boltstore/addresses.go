package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/endymail/endymail/mesh/store"
)

// Publish implements store.Addresses.
func (s *Store) Publish(ctx context.Context, address, account string) error {
	if address == "" {
		return fmt.Errorf("address is empty: %w", store.ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getAccount(tx, account); err != nil {
			return err
		}
		b := tx.Bucket(bucketAddresses)
		if old := b.Get([]byte(address)); old != nil {
			if string(old) == account {
				return nil
			}
			return fmt.Errorf("address %s is published by another account: %w", address, store.ErrExists)
		}
		return b.Put([]byte(address), []byte(account))
	})
}

// Unpublish implements store.Addresses.
func (s *Store) Unpublish(ctx context.Context, address, account string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAddresses)
		if old := b.Get([]byte(address)); old == nil || string(old) != account {
			return fmt.Errorf("address %s of account %s: %w", address, account, store.ErrNotFound)
		}
		return b.Delete([]byte(address))
	})
}

// Lookup implements store.Addresses.
func (s *Store) Lookup(ctx context.Context, address string) (string, error) {
	var account string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAddresses).Get([]byte(address))
		if v == nil {
			return fmt.Errorf("address %s: %w", address, store.ErrNotFound)
		}
		account = string(v)
		return nil
	})
	return account, err
}
