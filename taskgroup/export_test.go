package taskgroup

// StreamWaiting reports how many finished results of a running stream wait
// for the loop body (RS2: never more than the limit). Call it from the loop
// body.
func StreamWaiting[T any](r *Results[T]) int { return r.state.waiting() }
