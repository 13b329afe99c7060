package taskgroup

import "time"

// Stragglers reports every task of g that is running now, as the straggler
// report (OB4) would: group, task, how long since the group's context was
// cancelled (0 if it is not), how long the task has run, the cause, and its
// goroutine's state and stack when the group has a straggler timeout or a
// slow-task threshold (the tasks note their goroutines then). A task is
// running from the moment Go starts it: one whose goroutine has not been
// scheduled yet is listed too, without a stack. It does not wait
// for the timeout: a program's drain (package service) calls it when it gives
// up on the tasks, or when a second signal cuts the drain short.
//
// Only a group that tracks its running tasks can answer: one that is named
// (WithName), or has a straggler timeout or a slow-task threshold. For any
// other group Stragglers returns nil.
func (g *Group) Stragglers() []Straggler {
	o := g.cfg.obs
	if o == nil || !o.tracked {
		return nil
	}
	o.mu.Lock()
	late, goids := o.runningLocked(time.Now())
	o.mu.Unlock()
	if len(late) == 0 || o.straggle == 0 && o.slow == 0 {
		return late // no goroutine ids were read
	}
	stacks := allStacks()
	for i := range late {
		late[i].Stack = findStack(stacks, goids[i])
		late[i].State = goroutineState(late[i].Stack)
	}
	return late
}
