package taskgroup_test

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Many tests panic on purpose, and TG14 logs every panic to
	// slog.Default; the tests of TG14 install loggers of their own.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	goleak.VerifyTestMain(m)
}
