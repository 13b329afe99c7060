package lv1

import (
	"net"
	"sync"
)

func fanOut(items []string, work func(string)) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() { // want `LV1: sync.WaitGroup fan-out: a taskgroup.Group owns these goroutines`
			defer wg.Done()
			work(it)
		}()
	}
	wg.Wait()
}

func handedWaitGroup(wg *sync.WaitGroup, w func(*sync.WaitGroup)) {
	go w(wg) // want `LV1: sync.WaitGroup fan-out`
}

func waitGroupGo(items []string, work func(string)) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() { work(it) }) // want `LV1: sync.WaitGroup fan-out`
	}
	wg.Wait()
}

func loop(n int, work func(int)) {
	for i := range n {
		go work(i) // want `LV1: go statement in a loop`
	}
}

func service(ch chan int) {
	go func() { // want `LV1: long-lived goroutine with no owner`
		for v := range ch {
			_ = v
		}
	}()
	go func() { // want `LV1: long-lived goroutine with no owner`
		for {
			<-ch
		}
	}()
}

func serve(l net.Listener, srv interface{ Serve(net.Listener) error }) {
	go srv.Serve(l) // want `LV1: long-lived goroutine`
}

func result(compute func() int) int {
	ch := make(chan int, 1)
	go func() { // want `LV1: goroutine that hands a result back on a channel: taskgroup.Spawn`
		ch <- compute()
	}()
	return <-ch
}

func fireAndForget(log func()) {
	go log() // want `LV1: fire-and-forget goroutine with no owner`
}
