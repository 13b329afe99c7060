package service

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine is left behind, also the tasks a
// drain gave up on: each test lets them return before it ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
