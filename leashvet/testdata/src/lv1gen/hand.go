package lv1gen

func fireByHand(f func()) {
	go f() // want `LV1: fire-and-forget`
}
