// Package fanout is a leash example: user code, so LV1 applies.
package fanout

func fire(f func()) {
	go f() // want `LV1: fire-and-forget goroutine`
}
