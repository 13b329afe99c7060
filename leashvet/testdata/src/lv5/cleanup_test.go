package lv5

import "testing"

// t.Context() is cancelled only after the test's deferred calls have run.
func TestRollback(t *testing.T) {
	tx := &Tx{}
	defer tx.Rollback(t.Context())
}
