// Command lv1main starts its runner from main: not an LV1 finding.
package main

import (
	"net/http"
)

func run() {}

func main() {
	go http.ListenAndServe("localhost:6060", nil)
	go func() {
		run()
	}()
	for i := 0; i < 3; i++ {
		go run() // want `LV1: go statement in a loop`
	}
	start()
}

func start() {
	go run() // want `LV1: long-lived goroutine`
}
