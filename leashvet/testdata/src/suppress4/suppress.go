package suppress4

import (
	"context"
	"time"
)

func poll(ctx context.Context) {
	time.Sleep(time.Second) //leash:ignore LV4 a 1 s pause the caller bounds with its own timeout

	time.Sleep(time.Second) //leash:ignore LV4 // want `LV4: leash:ignore without a reason suppresses nothing` `LV4: time.Sleep ignores`
}
