package taskgroup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"time"

	"github.com/leash-go/leash/panics"
)

// Hooks are functions a group calls as its tasks start and end and when a task
// straggles (OB4). Each may be nil. They run synchronously: OnStart and OnDone
// in the task's goroutine, so the task waits for them and Wait returns only
// after the last OnDone; OnStraggler and OnSlow in a timer's goroutine, and
// Wait waits for a report in progress. Keep them quick, and do not wait for
// the group in them. A hook that panics fails the task it was called about,
// as a panic in the task would (OB6): the panic is recovered, logged, and
// comes home at Wait.
type Hooks struct {
	// OnStart is called when a task starts running, before its function. A
	// panic in OnStart fails the task as a panic in its function would.
	OnStart func(TaskInfo)
	// OnDone is called when a task has ended, with its own error (nil, what
	// it returned, a *PanicError or ErrGoexit) and how long it ran, before
	// the group counts it as ended.
	OnDone func(TaskInfo, error, time.Duration)
	// OnStraggler is called once for every task still running the straggler
	// timeout after the group's context was cancelled (WithStragglerTimeout).
	OnStraggler func(Straggler)
	// OnSlow is called once for every task still running the slow-task
	// threshold after it started (WithSlowTask), cancelled or not.
	OnSlow func(SlowTask)
}

// TaskInfo describes one running task of a group.
type TaskInfo struct {
	Group string    // the group's name, from WithName; "" for an unnamed group
	Name  string    // the task's name, from GoNamed or SpawnNamed; "" for an unnamed task
	Index int       // 0-based, in the order Go/Spawn was called, as in TaskError
	Start time.Time // when the task started running
}

// A Straggler is a task still running the straggler timeout after its
// group's context was cancelled (OB4): a task that ignores cancellation and
// keeps Wait from returning.
type Straggler struct {
	TaskInfo                  // the group, the task's name and index, and when it started
	SinceCancel time.Duration // how long ago the group's context was cancelled: the timeout, give or take scheduling
	Running     time.Duration // how long the task has been running
	Cause       error         // why the group was cancelled: context.Cause of the group's context
	State       string        // what the task's goroutine is doing, from its stack's header: "chan receive", "select", "IO wait", "syscall", "sleep", "running", ...; "" if not found
	Stack       []byte        // the stack of the task's goroutine, as runtime.Stack prints it; nil if it could not be found
}

// A SlowTask is a task still running the slow-task threshold after it
// started (OB7): like asyncio's report of a callback that held the loop too
// long, it names a task that may be stuck before anything is cancelled.
type SlowTask struct {
	TaskInfo               // the group, the task's name and index, and when it started
	Running  time.Duration // how long the task has been running: the threshold, give or take scheduling
	State    string        // what its goroutine is doing, as in Straggler
	Stack    []byte        // the stack of the task's goroutine; nil if it could not be found
}

// WithSlowTask reports every task still running d after it started, once
// (OB7): to Hooks.OnSlow and to the logger, or to slog.Default() when the
// group has neither, at warn level. The report names the group and the task,
// says how long it has run and what its goroutine is doing (from its stack's
// header: waiting on a channel, a lock, I/O or a system call, or running),
// and carries its stack. Nothing is cancelled. Each task pays for a timer
// and for reading its goroutine's id as it starts (BenchmarkSlowTask); an
// unnamed group without the option pays nothing. It panics if d <= 0.
func WithSlowTask(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("taskgroup: WithSlowTask(%v): the threshold must be positive", d))
	}
	return func(c *config) { c.observer().slow = d }
}

// WithHooks makes the group call h's functions as its tasks start and end and
// when a task straggles. See Hooks for when each is called.
func WithHooks(h Hooks) Option {
	return func(c *config) { c.observer().hooks = h }
}

// WithLogger makes the group log to l: a task's panic at error level the
// moment it is recovered, in the task's goroutine and with its stack, so a
// sibling that never returns cannot hide it behind Wait (OB3); a task that
// calls runtime.Goexit at error level; stragglers at warn level (OB4). A nil l
// panics.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("taskgroup: WithLogger(nil): pass a *slog.Logger, slog.Default() for the default one")
	}
	return func(c *config) { c.observer().logger = l }
}

// WithStragglerTimeout reports every task still running d after the group's
// context was cancelled, once (OB4): to Hooks.OnStraggler and to the logger,
// or to slog.Default() when the group has neither. The report names the
// group and the task, says how long ago the cancellation was and carries the
// task goroutine's stack. The clock is the time package's, so in a
// testing/synctest bubble the fake clock drives it. It panics if d <= 0.
//
// To find the stack later, every task reads its goroutine's id from its own
// stack as it starts, which costs a few microseconds (BenchmarkNamed): a
// price for groups of tasks that wait on the network, not for fine-grained
// ones.
func WithStragglerTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("taskgroup: WithStragglerTimeout(%v): the timeout must be positive", d))
	}
	return func(c *config) { c.observer().straggle = d }
}

// observer is what a group pays to be seen (OB1-OB5). A group has one only
// when it is named, was given an observability option, or was created while
// the execution tracer ran; otherwise g.cfg.obs is nil and a nil check is all
// it costs.
type observer struct {
	// Set by the options.
	hooks    Hooks
	logger   *slog.Logger
	straggle time.Duration
	slow     time.Duration

	// Set by New, then only read.
	group     *Group
	name      string
	ctx       context.Context // the group's
	start     time.Time
	tracked   bool        // running tasks are listed: for WriteTree or stragglers
	traceTask *trace.Task // nil unless the tracer ran at New (OB2)
	stopWatch func() bool // stops the watch for the group's cancellation

	// The tree (OB5), for named groups: where the group was created, and its
	// place in the registry of live groups.
	parent     *observer // the nearest named group whose context ctx descends from
	parentTask *taskRun  // the named task of parent whose context it was, if any
	entry      *treeEntry
	cleanup    runtime.Cleanup

	mu          sync.Mutex
	tasks       taskRun   // sentinel of the ring of running tasks, when tracked
	cancelledAt time.Time // zero until the watch sees the cancellation
	timer       *time.Timer
	closed      bool           // Wait has run: no report starts any more
	reporting   sync.WaitGroup // a straggler report in progress
}

// observer returns the config's observer, making it on first use. Options
// make a new one for every group they configure, so groups never share one.
// It writes c: call it only on a group's own config, never on noOptions
// (newGroup gives a group its own config whenever it may be observed).
func (c *config) observer() *observer {
	if c.obs == nil {
		c.obs = &observer{}
	}
	return c.obs
}

// nodeKey is the context key under which a named group's context holds its
// *observer, and a named task's context its *taskRun, so that a group created
// inside finds its place in the tree (OB5).
type nodeKey struct{}

// newObserved is the part of New that a seen group pays for: its trace task
// (OB2), its pprof labels (OB1), its place in the tree (OB5) and the watch for
// its cancellation that starts straggler reports (OB4).
func (g *Group) newObserved(parent context.Context) {
	o := g.cfg.observer()
	o.group, o.name = g, g.cfg.name
	o.start = time.Now()
	ctx := parent
	if trace.IsEnabled() { // OB2
		typ := o.name
		if typ == "" {
			typ = "taskgroup"
		}
		ctx, o.traceTask = trace.NewTask(ctx, typ)
	}
	if o.name != "" {
		// OB1: the group's tasks run under its label. A task label inherited
		// from an enclosing group's task would name a task of another group,
		// so it is blanked.
		labels := pprof.Labels("group", o.name)
		if _, ok := pprof.Label(ctx, "task"); ok {
			labels = pprof.Labels("group", o.name, "task", "")
		}
		ctx = pprof.WithLabels(ctx, labels)
		switch n := parent.Value(nodeKey{}).(type) {
		case *observer:
			o.parent = n
		case *taskRun:
			o.parent, o.parentTask = n.o, n
		}
		ctx = context.WithValue(ctx, nodeKey{}, o)
	}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	o.ctx = g.ctx
	o.tracked = o.name != "" || o.straggle > 0 || o.slow > 0
	if o.tracked {
		o.tasks.prev, o.tasks.next = &o.tasks, &o.tasks
		o.stopWatch = context.AfterFunc(g.ctx, o.cancelled)
	}
	if o.name != "" {
		remember(o)
	}
}

// A seen task's taskRun is made by prepare in the goroutine that calls Go,
// before the task's goroutine starts: a new goroutine's stack is small, and
// growing it costs more than the rest of starting a task (BenchmarkNamed), so
// the allocations happen where the stack is already grown, and run keeps its
// frame small.

// A taskRun is one task that is seen.
type taskRun struct {
	info       TaskInfo
	o          *observer       // nil for a named task of a group without one
	ctx        context.Context // the task's: with its labels, and in a named group its place in the tree
	region     *trace.Region   // nil unless the group is a trace task (OB2)
	goid       uint64          // its goroutine, to find its stack; 0 without stragglers or slow tasks (OB4, OB7)
	slowTimer  *time.Timer     // reports the task if it runs too long (OB7)
	labelled   bool            // it runs under pprof labels (OB1)
	prev, next *taskRun        // on o's running list while it runs, when o is tracked
}

// prepare makes the taskRun of a task about to start: its context, with its
// pprof label when it is named (OB1) and, in a named group, its place in the
// tree for the groups created in it (OB5).
func (g *Group) prepare(j job) *taskRun {
	o := g.cfg.obs
	r := &taskRun{o: o, ctx: g.ctx}
	r.info.Group, r.info.Name, r.info.Index = g.cfg.name, j.name, j.idx
	r.labelled = j.name != "" || g.cfg.name != ""
	if j.name != "" {
		r.ctx = withTaskLabel(r.ctx, j.name)
		if o != nil && o.name != "" {
			r.ctx = context.WithValue(r.ctx, nodeKey{}, r)
		}
	}
	if o != nil {
		// The task is running from here on for the reports (OB4, OB5): a
		// task whose goroutine has not been scheduled yet is a straggler
		// too. It is listed without a stack until begin notes its goroutine.
		r.info.Start = time.Now()
		if o.tracked {
			o.mu.Lock()
			r.prev, r.next = o.tasks.prev, &o.tasks
			o.tasks.prev.next = r
			o.tasks.prev = r
			o.mu.Unlock()
		}
	}
	return r
}

// begin starts a task in its own goroutine: under its labels (OB1), with
// its goroutine noted on its group's running list (OB4, OB5; prepare put it
// there), in a trace region (OB2), and calls OnStart. It returns the task's
// context. A panic in OnStart is the task's, recovered by run.
func (r *taskRun) begin() context.Context {
	if r.labelled {
		pprof.SetGoroutineLabels(r.ctx)
	}
	o := r.o
	if o == nil {
		return r.ctx
	}
	if o.tracked {
		if o.straggle > 0 || o.slow > 0 {
			id := goid()
			o.mu.Lock() // the reports read it under o.mu
			r.goid = id
			o.mu.Unlock()
		}
		if o.slow > 0 {
			r.slowTimer = time.AfterFunc(o.slow, r.reportSlow)
		}
	}
	if o.traceTask != nil {
		r.startRegion()
	}
	if o.hooks.OnStart != nil {
		o.hooks.OnStart(r.info)
	}
	return r.ctx
}

func withTaskLabel(ctx context.Context, name string) context.Context {
	return pprof.WithLabels(ctx, pprof.Labels("task", name))
}

func (r *taskRun) startRegion() {
	typ := r.info.Name
	if typ == "" {
		typ = "task"
	}
	r.region = trace.StartRegion(r.ctx, typ) // OB2
}

// stop ends what begin began, and calls OnDone with the task's error. It
// returns the task's error, which a panic in OnDone joins: the panic is
// recovered, logged and comes home at Wait as the task's failure (OB6).
func (r *taskRun) stop(g *Group, err error, abnormal bool) (error, bool) {
	if r.region != nil {
		r.region.End()
	}
	if r.slowTimer != nil {
		r.slowTimer.Stop()
	}
	if r.o != nil && r.o.tracked {
		r.o.end(r)
	}
	if r.o != nil && r.o.hooks.OnDone != nil {
		if p := r.onDone(err); p != nil {
			g.logPanic(job{idx: r.info.Index, name: r.info.Name}, p)
			err, abnormal = errors.Join(err, p), true
		}
	}
	if r.labelled {
		pprof.SetGoroutineLabels(g.ctx) // a limited group's worker goes on to other tasks
	}
	return err, abnormal
}

// onDone calls OnDone, and returns its panic, if it panics.
func (r *taskRun) onDone(err error) (p *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			p = panics.Capture(v)
		}
	}()
	r.o.hooks.OnDone(r.info, err, time.Since(r.info.Start))
	return nil
}

// end takes a task off the running list.
func (o *observer) end(r *taskRun) {
	o.mu.Lock()
	r.prev.next, r.next.prev = r.next, r.prev
	r.prev, r.next = nil, nil
	o.mu.Unlock()
}

// taskAttrs names j in a log record.
func (g *Group) taskAttrs(j job) []slog.Attr {
	return taskAttrs(TaskInfo{Group: g.cfg.name, Name: j.name, Index: j.idx})
}

// taskAttrs names a task in a log record: its group and name when it has
// them, and always its index.
func taskAttrs(info TaskInfo) []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	if info.Group != "" {
		attrs = append(attrs, slog.String("group", info.Group))
	}
	if info.Name != "" {
		attrs = append(attrs, slog.String("task", info.Name))
	}
	return append(attrs, slog.Int("index", info.Index))
}

// reportSlow reports r as a slow task, if it is still running (OB7).
func (r *taskRun) reportSlow() {
	o := r.o
	o.mu.Lock()
	if o.closed || r.next == nil { // Wait has run, or the task has just ended
		o.mu.Unlock()
		return
	}
	s := SlowTask{TaskInfo: r.info, Running: time.Since(r.info.Start)}
	o.reporting.Add(1) // under o.mu and before closed: Wait waits for it
	o.mu.Unlock()
	defer o.reporting.Done()
	s.Stack = findStack(allStacks(), r.goid)
	s.State = goroutineState(s.Stack)
	if o.hooks.OnSlow != nil {
		o.callHook(s.TaskInfo, func() { o.hooks.OnSlow(s) })
	}
	if l := o.reportLogger(o.hooks.OnSlow != nil); l != nil {
		attrs := append(taskAttrs(s.TaskInfo),
			slog.Duration("running", s.Running),
			slog.String("state", s.State),
			slog.String("stack", string(s.Stack)))
		l.LogAttrs(o.ctx, slog.LevelWarn, "taskgroup: task is slow", attrs...)
	}
}

// reportLogger is where a report goes besides a hook: the group's logger, or
// slog.Default() when the group has neither a logger nor the hook.
func (o *observer) reportLogger(hooked bool) *slog.Logger {
	if o.logger == nil && !hooked {
		return slog.Default()
	}
	return o.logger
}

// goroutineState returns what a goroutine is doing, from the header of its
// stack as runtime.Stack prints it: "goroutine 7 [chan receive, 2 minutes]:"
// gives "chan receive". A synctest bubble's "(durable)" mark and the time
// blocked are left out.
func goroutineState(stack []byte) string {
	_, rest, ok := bytes.Cut(stack, []byte(" ["))
	if !ok {
		return ""
	}
	state, _, ok := bytes.Cut(rest, []byte("]"))
	if !ok {
		return ""
	}
	state, _, _ = bytes.Cut(state, []byte(","))
	state, _, _ = bytes.Cut(state, []byte(" (durable)"))
	return string(state)
}

// cancelled runs once the group's context is done. It notes when, for
// WriteTree, and with a straggler timeout starts the timer for the report.
// Both clocks are the time package's, so a synctest bubble's fake clock
// drives them (ALL1).
func (o *observer) cancelled() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.cancelledAt = time.Now()
	if o.straggle > 0 {
		o.timer = time.AfterFunc(o.straggle, o.reportStragglers)
	}
}

// reportStragglers reports every task still running, once: the timer that
// calls it fires once, after the straggler timeout (OB4).
func (o *observer) reportStragglers() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	late, goids := o.runningLocked(time.Now())
	o.reporting.Add(1) // under o.mu and before closed: Wait waits for it
	o.mu.Unlock()
	defer o.reporting.Done()
	if len(late) == 0 {
		return
	}
	stacks := allStacks()
	for i := range late {
		late[i].Stack = findStack(stacks, goids[i])
		late[i].State = goroutineState(late[i].Stack)
		o.reportStraggler(late[i])
	}
}

func (o *observer) reportStraggler(s Straggler) {
	if o.hooks.OnStraggler != nil {
		o.callHook(s.TaskInfo, func() { o.hooks.OnStraggler(s) })
	}
	l := o.reportLogger(o.hooks.OnStraggler != nil)
	if l == nil {
		return
	}
	attrs := append(taskAttrs(s.TaskInfo),
		slog.Duration("since_cancel", s.SinceCancel),
		slog.Duration("running", s.Running),
		slog.Any("cause", s.Cause),
		slog.String("state", s.State),
		slog.String("stack", string(s.Stack)))
	l.LogAttrs(o.ctx, slog.LevelWarn, "taskgroup: task still running after the group was cancelled", attrs...)
}

// callHook calls a hook about the task info names from a goroutine of the
// group's (a timer's): a panic in it is recovered, logged and comes home at
// Wait as the task's failure (OB6), never crashing a goroutine the caller
// does not own.
func (o *observer) callHook(info TaskInfo, hook func()) {
	defer func() {
		if v := recover(); v != nil {
			j := job{idx: info.Index, name: info.Name}
			p := panics.Capture(v)
			o.group.logPanic(j, p)
			o.group.record(j, p, true)
		}
	}()
	hook()
}

// close ends everything the observer started, so that nothing of it outlives
// Wait: the watch, the straggler timer, a report in progress, the trace task
// and the group's place in the tree. Wait calls it, perhaps more than once,
// after every task has ended and before the group's context is cancelled for
// good.
func (o *observer) close() {
	o.mu.Lock()
	first := !o.closed
	o.closed = true
	if first {
		if o.stopWatch != nil {
			o.stopWatch()
		}
		if o.timer != nil {
			o.timer.Stop()
		}
	}
	o.mu.Unlock()
	if first {
		if o.entry != nil {
			o.cleanup.Stop()
			forget(o.entry)
		}
		if o.traceTask != nil {
			o.traceTask.End()
		}
	}
	o.reporting.Wait()
}

// goid returns the current goroutine's id, read from the first line of its
// stack ("goroutine 18 [running]:"); 0 if it cannot be read. The id lets a
// straggler report find the goroutine in runtime.Stack's dump of all of them.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// allStacks returns the stacks of every goroutine, as runtime.Stack prints
// them.
func allStacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// findStack returns the stack of goroutine id from stacks, or nil.
func findStack(stacks []byte, id uint64) []byte {
	if id == 0 {
		return nil
	}
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := 0
	for {
		j := bytes.Index(stacks[i:], head)
		if j < 0 {
			return nil
		}
		i += j
		if i == 0 || stacks[i-1] == '\n' {
			break
		}
		i += len(head)
	}
	s := stacks[i:]
	if end := bytes.Index(s, []byte("\n\n")); end >= 0 {
		s = s[:end]
	}
	return panics.Trim(bytes.Clone(bytes.TrimRight(s, "\n"))) // without leash's runner frames
}

// runningLocked lists the tasks on the running list as stragglers at now,
// with their goroutine ids (0 for one not noted) for the stacks. o.mu is
// held.
func (o *observer) runningLocked(now time.Time) ([]Straggler, []uint64) {
	var since time.Duration
	if !o.cancelledAt.IsZero() {
		since = now.Sub(o.cancelledAt)
	}
	var late []Straggler
	var goids []uint64
	for r := o.tasks.next; r != &o.tasks; r = r.next {
		late = append(late, Straggler{
			TaskInfo:    r.info,
			SinceCancel: since,
			Running:     now.Sub(r.info.Start),
			Cause:       context.Cause(o.ctx),
		})
		goids = append(goids, r.goid)
	}
	return late, goids
}
