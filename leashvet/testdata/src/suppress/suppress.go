package suppress

func serve(run func()) {
	go run() //leash:ignore LV1 the listener's Close in Shutdown ends it

	//leash:ignore LV1 a comment alone on its line covers the next one
	go run()

	go run() //leash:ignore LV4 names another rule // want `LV1: long-lived goroutine`

	go run() //leash:ignore LV1,LV4 several rules at once
}

func noReason(f func()) {
	go f() //leash:ignore LV1 // want `LV1: leash:ignore without a reason suppresses nothing` `LV1: fire-and-forget`
}

func noRule(f func()) {
	go f() //leash:ignore because // want `leash:ignore must name the rules` `LV1: fire-and-forget`
}
