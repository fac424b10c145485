package engine

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/brink-load/brink/measure"
)

// Histogram range: 1 µs to 60 s at 3 significant figures, values in µs.
const (
	histMin     = 1
	histMax     = 60_000_000
	histSigFigs = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSigFigs) }

// A WebSocket session lasts up to the whole run, past newHist's 60 s: its
// histogram spans 1 µs to 30 days at 2 significant figures (~35 KB, where
// 3 figures over that range would take ~180 KB per shard and window).
const (
	sessionHistMax     = 30 * 24 * 3600 * 1_000_000
	sessionHistSigFigs = 2
)

func newSessionHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, sessionHistMax, sessionHistSigFigs)
}

// Per-endpoint latency is kept to 2 significant figures (±1 %) in one
// histogram per endpoint and window shared by all shards, allocated on the
// endpoint's first response: a 3-figure HDR histogram per endpoint per
// shard window cost 1–3 MB per request name up front (5 000 names: 14 GB).
// The counts are kept by HDR bucket (a power of two of µs), each bucket's
// 128 counts allocated on its first value: an endpoint's latencies span a
// few buckets, so it costs ~1 KiB per bucket used and window parity, where
// the 2 560 counts of the whole range cost 40 KiB per endpoint (5 000
// request entries: 200 MB). Group and overall latency stay exact (3
// figures, per shard).
const (
	epSigFigs = 2
	// epCountsLen is the counts length of an HDR histogram of
	// histMin..histMax at epSigFigs (a test checks it against the library).
	epCountsLen = 2560
	// HDR layout at 2 figures from 1 µs: 256 sub-buckets (unit resolution
	// to 2·10²), so half of them, 128, per bucket after the first.
	epSubBucketHalfCountMag = 7
	epSubBucketHalfCount    = 1 << epSubBucketHalfCountMag
	epSubBucketMask         = 2*epSubBucketHalfCount - 1
	// An epChunk is the counts of one HDR bucket: index i is in chunk
	// i>>epSubBucketHalfCountMag (the first chunk holds bucket 0's lower
	// half, unit resolution to 127 µs).
	epChunkLen = epSubBucketHalfCount
	epChunks   = epCountsLen / epChunkLen
)

func newEndpointHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, epSigFigs) }

// epIndex is the HDR counts index of v (1..histMax) at epSigFigs, as the
// library computes it (unit magnitude 0).
func epIndex(v int64) int {
	bucket := 64 - bits.LeadingZeros64(uint64(v|epSubBucketMask)) - (epSubBucketHalfCountMag + 1)
	sub := int(v >> uint(bucket))
	return (bucket+1)<<epSubBucketHalfCountMag + sub - epSubBucketHalfCount
}

// epValue is the lowest value that lands at counts index i.
func epValue(i int) int64 {
	bucket := i>>epSubBucketHalfCountMag - 1
	sub := i&(epSubBucketHalfCount-1) + epSubBucketHalfCount
	if bucket < 0 {
		sub -= epSubBucketHalfCount
		bucket = 0
	}
	return int64(sub) << uint(bucket)
}

// epChunk is one bucket's counts of an endpoint in one window parity.
type epChunk [epChunkLen]atomic.Int64

// epCounts is one endpoint's latency counts for one window parity, by
// bucket, each nil until a value lands in it (then kept for the run). VUs
// of every shard add to it under their own shard's lock (hence atomics);
// the ticker drains it only after swapping every shard, when no VU can
// still be writing to this parity.
type epCounts [epChunks]atomic.Pointer[epChunk]

// add counts one value at counts index i; the bucket's first value in
// this parity allocates its chunk (any shard may race to it).
func (c *epCounts) add(i int) {
	ch := c[i>>epSubBucketHalfCountMag].Load()
	if ch == nil {
		ch = c.chunk(i >> epSubBucketHalfCountMag)
	}
	ch[i&(epChunkLen-1)].Add(1)
}

// chunk allocates bucket b's counts (kept out of add so add inlines).
func (c *epCounts) chunk(b int) *epChunk {
	ch := new(epChunk)
	if !c[b].CompareAndSwap(nil, ch) {
		ch = c[b].Load()
	}
	return ch
}

// epLat is one endpoint's pair of counts, by window parity, each nil until
// the endpoint's first response in a window of that parity.
type epLat [2]atomic.Pointer[epCounts]

// alloc is an endpoint's first response in a window of this parity: any
// shard may race to it.
func (e *epLat) alloc(parity uint8) *epCounts {
	c := new(epCounts)
	if !e[parity].CompareAndSwap(nil, c) {
		c = e[parity].Load()
	}
	return c
}

// drain moves one parity's counts into h (reset by the caller) and zeroes
// them. It returns false when nothing was recorded.
func (e *epLat) drain(parity uint8, h *hdrhistogram.Histogram) bool {
	c := e[parity].Load()
	if c == nil {
		return false
	}
	any := false
	for ci := range c {
		ch := c[ci].Load()
		if ch == nil {
			continue
		}
		for j := range ch {
			if n := ch[j].Load(); n != 0 {
				ch[j].Store(0)
				_ = h.RecordValues(epValue(ci*epChunkLen+j), n)
				any = true
			}
		}
	}
	return any
}

// toMicros clamps into the histogram's range so RecordValue never fails.
func toMicros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < histMin {
		return histMin
	}
	if us > histMax {
		return histMax
	}
	return us
}

// kind indexes the error counters; order matches ErrorKinds.
type kind uint8

const (
	kindNone kind = iota
	kindDNS
	kindRefused
	kindConnectTimeout
	kindTimeout
	kindReset
	kindTLS
	kind4xx
	kind5xx
	kindCheck
	kindWSClosed
	kindWSReplyTimeout
	kindWSTooLarge
	kindDropped
	kindOther
	kindBodyTooLarge
	kindExtract
	numKinds
)

func (k kind) ErrorKind() measure.ErrorKind {
	if k == kindNone {
		return ""
	}
	return measure.ErrorKinds[k-1]
}

// checkResult says whether a request carried a check and how it went.
type checkResult uint8

const (
	checkNone checkResult = iota
	checkPass
	checkFail
)

// endpointWindow is one endpoint's counts in a shard window; its latency
// is in the recorder's shared epLat.
type endpointWindow struct {
	requests int64
	errors   int64
}

type groupWindow struct {
	requests, iterations, errors, dropped, started int64
	wsSessions, wsFailed, wsOutcomes               int64
}

// window is one shard's counters for the current tick window. Everything is
// preallocated, so recording allocates nothing.
type window struct {
	requests, iterations, bytesIn, bytesOut int64
	checksPassed, checksFailed              int64
	errors                                  [numKinds]int64
	service                                 *hdrhistogram.Histogram
	connect                                 *hdrhistogram.Histogram // new TCP(+TLS) connections
	ttfb                                    *hdrhistogram.Histogram
	endpoints                               []endpointWindow
	groups                                  []groupWindow
	// groupHist is each group's latency (CO-corrected for open groups),
	// exact; nil until the group's first response in this window.
	groupHist []*hdrhistogram.Histogram
	// parity picks the endpoints' epLat half: a shard's two windows differ,
	// and every shard's current window has the same parity.
	parity uint8

	wsOpened, wsClosed, wsSent, wsReceived int64
	// ws_failed's samples: failed of outcomes (see WSStats), by kind.
	wsSessions, wsFailed, wsOutcomes int64
	wsErrors                         [numKinds]int64
	wsConnect, wsReply, wsSession    *hdrhistogram.Histogram

	lag lagHist // open model: actual send − intended start (zeroed by reset)

	fails map[failKey]failSample // why requests failed (failures.go); nil until one did
}

func newWindow(nEndpoints, nGroups int, withWS bool, parity uint8) *window {
	w := &window{
		service:   newHist(),
		connect:   newHist(),
		ttfb:      newHist(),
		endpoints: make([]endpointWindow, nEndpoints),
		groups:    make([]groupWindow, nGroups),
		groupHist: make([]*hdrhistogram.Histogram, nGroups),
		parity:    parity,
	}
	if withWS {
		w.wsConnect, w.wsReply, w.wsSession = newHist(), newHist(), newSessionHist()
	}
	return w
}

func (w *window) reset() {
	svc, conn, ttfb, eps, grps, gh, wsc, wsr, wss, par, fails := w.service, w.connect, w.ttfb, w.endpoints, w.groups, w.groupHist, w.wsConnect, w.wsReply, w.wsSession, w.parity, w.fails
	resetHist(svc)
	resetHist(conn)
	resetHist(ttfb)
	clear(eps)
	clear(grps)
	for _, h := range gh {
		resetHist(h)
	}
	resetHist(wsc)
	resetHist(wsr)
	resetHist(wss)
	*w = window{service: svc, connect: conn, ttfb: ttfb, endpoints: eps, groups: grps, groupHist: gh, wsConnect: wsc, wsReply: wsr, wsSession: wss, parity: par, fails: fails}
	clear(fails)
}

// resetHist skips the 140 KB memset when nothing was recorded.
func resetHist(h *hdrhistogram.Histogram) {
	if h != nil && h.TotalCount() > 0 {
		h.Reset()
	}
}

// shard is one worker's recorder. VUs are spread over a few shards rather
// than one per VU: an HDR histogram of this range is ~140 KB, and 10 000
// WebSocket VUs must stay within ~16 KB each. With 2–4 shards per core the
// mutex is all but uncontended (a VU holds it for a few tens of ns), and the
// ticker takes it only to swap the window pointers (double buffer).
type shard struct {
	mu    sync.Mutex
	cur   *window
	spare *window
	eps   []epLat  // the recorder's, shared by all shards
	_     [16]byte // keep neighbouring shards' mutexes off one cache line
}

// recorder owns the shards and the merge at each tick.
type recorder struct {
	shards []*shard
	eps    []epLat
}

func shardCount() int {
	n := 2 * runtime.GOMAXPROCS(0)
	return min(max(n, 4), 16)
}

func newRecorder(nShards, nEndpoints, nGroups int, withWS bool) *recorder {
	r := &recorder{shards: make([]*shard, nShards), eps: make([]epLat, nEndpoints)}
	for i := range r.shards {
		r.shards[i] = &shard{cur: newWindow(nEndpoints, nGroups, withWS, 0), spare: newWindow(nEndpoints, nGroups, withWS, 1), eps: r.eps}
	}
	return r
}

func (r *recorder) shard(id int) *shard { return r.shards[id%len(r.shards)] }

// request records one HTTP request's outcome. latency is 0 when no response
// arrived (a transport error): such failures are counted but kept out of
// the latency histograms so a refused port does not look fast. ttfb is 0
// when unknown.
func (s *shard) request(ep, grp int, k kind, chk checkResult, latency, service, ttfb time.Duration, in, out int64) {
	s.mu.Lock()
	w := s.cur
	w.requests++
	w.bytesIn += in
	w.bytesOut += out
	e := &w.endpoints[ep]
	e.requests++
	g := &w.groups[grp]
	g.requests++
	if k != kindNone {
		w.errors[k]++
		e.errors++
		g.errors++
	}
	switch chk {
	case checkPass:
		w.checksPassed++
	case checkFail:
		w.checksFailed++
	}
	if latency > 0 {
		us := toMicros(latency)
		el := &s.eps[ep]
		c := el[w.parity&1].Load()
		if c == nil {
			c = el.alloc(w.parity & 1)
		}
		// c.add(epIndex(us)), inlined by hand (add is over the budget).
		i := epIndex(us)
		ch := c[i>>epSubBucketHalfCountMag].Load()
		if ch == nil {
			ch = c.chunk(i >> epSubBucketHalfCountMag)
		}
		ch[i&(epChunkLen-1)].Add(1)
		gh := w.groupHist[grp]
		if gh == nil {
			gh = newHist() // once per group and window, for the run
			w.groupHist[grp] = gh
		}
		_ = gh.RecordValue(us)
		_ = w.service.RecordValue(toMicros(service))
		if ttfb > 0 {
			_ = w.ttfb.RecordValue(toMicros(ttfb))
		}
	}
	s.mu.Unlock()
}

func (s *shard) iteration(grp int) {
	s.mu.Lock()
	s.cur.iterations++
	s.cur.groups[grp].iterations++
	s.mu.Unlock()
}

// started counts an arrival handed to a VU (open model), so "could not
// sustain the rate" is judged on starts, not on slow completions.
func (s *shard) started(grp int) {
	s.mu.Lock()
	s.cur.groups[grp].started++
	s.mu.Unlock()
}

func (s *shard) dropped(grp int) {
	s.mu.Lock()
	s.cur.errors[kindDropped]++
	s.cur.groups[grp].dropped++
	s.mu.Unlock()
	s.failure(-1-grp, kindDropped, 0, 0, nil, nil, "", nil)
}

func (s *shard) connected(d time.Duration) {
	s.mu.Lock()
	_ = s.cur.connect.RecordValue(toMicros(d))
	s.mu.Unlock()
}

// wsFailed counts one failed ws_failed sample of kind k; the caller holds
// the lock. WebSocket failures go into the by-kind counts beside HTTP's,
// never into a group's HTTP errors: http_req_failed stays errors over
// requests, so no count derived from it can go negative.
func (w *window) wsFailedLocked(grp int, k kind) {
	w.errors[k]++
	w.wsErrors[k]++
	w.wsFailed++
	w.wsOutcomes++
	g := &w.groups[grp]
	g.wsFailed++
	g.wsOutcomes++
}

// wsRefused counts a session whose handshake failed (kind k).
func (s *shard) wsRefused(grp int, k kind) {
	s.mu.Lock()
	w := s.cur
	w.wsSessions++
	w.groups[grp].wsSessions++
	w.wsFailedLocked(grp, k)
	s.mu.Unlock()
}

// wsOpened counts a session whose handshake succeeded after d.
func (s *shard) wsOpened(grp int, d time.Duration) {
	s.mu.Lock()
	w := s.cur
	w.wsOpened++
	w.wsSessions++
	w.groups[grp].wsSessions++
	_ = w.wsConnect.RecordValue(toMicros(d))
	s.mu.Unlock()
}

// wsEnded counts the end of an opened session that lasted d: a ws_failed
// sample, failed with k (closed early, message too large) or not (kindNone:
// brink ended it).
func (s *shard) wsEnded(grp int, k kind, d time.Duration) {
	s.mu.Lock()
	w := s.cur
	_ = w.wsSession.RecordValue(min(max(int64(d/time.Microsecond), histMin), sessionHistMax))
	if k == kindNone {
		w.wsOutcomes++
		w.groups[grp].wsOutcomes++
	} else {
		w.wsFailedLocked(grp, k)
		if k == kindWSClosed {
			w.wsClosed++
		}
	}
	s.mu.Unlock()
}

// wsReplyTimedOut counts a reply overdue by the group's timeout.
func (s *shard) wsReplyTimedOut(grp int) {
	s.mu.Lock()
	s.cur.wsFailedLocked(grp, kindWSReplyTimeout)
	s.mu.Unlock()
}

func (s *shard) wsSent(n int64) {
	s.mu.Lock()
	s.cur.wsSent++
	s.cur.bytesOut += n
	s.mu.Unlock()
}

// wsReceived counts a message; reply > 0 is the send→reply latency (a
// ws_failed sample that passed).
func (s *shard) wsReceived(grp int, n int64, reply time.Duration) {
	s.mu.Lock()
	w := s.cur
	w.wsReceived++
	w.bytesIn += n
	if reply > 0 {
		_ = w.wsReply.RecordValue(toMicros(reply))
		w.wsOutcomes++
		w.groups[grp].wsOutcomes++
	}
	s.mu.Unlock()
}

// swap hands the current windows to the ticker and starts fresh ones.
// The returned windows must be given back with release.
func (r *recorder) swap(dst []*window) []*window {
	dst = dst[:0]
	for _, s := range r.shards {
		s.mu.Lock()
		w := s.cur
		s.cur = s.spare
		s.spare = nil
		s.mu.Unlock()
		dst = append(dst, w)
	}
	return dst
}

// release resets the merged windows and returns them as spares.
func (r *recorder) release(ws []*window) {
	for i, s := range r.shards {
		ws[i].reset()
		s.mu.Lock()
		s.spare = ws[i]
		s.mu.Unlock()
	}
}
