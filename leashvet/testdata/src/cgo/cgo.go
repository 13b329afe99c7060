package cgo

/*
static int answer(void) { return 42; }
*/
import "C"

import (
	"context"
	"time"
)

func Answer(ctx context.Context) int {
	time.Sleep(time.Millisecond)
	go func() {}()
	return int(C.answer())
}
