package lv2

import "golang.org/x/sync/errgroup"

// The only errgroup in the file: its import goes with it.
func only(work func() error) error {
	var g errgroup.Group // want `LV2: errgroup.Group`
	g.Go(func() error { return work() })
	return g.Wait()
}
