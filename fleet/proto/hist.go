package proto

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// EncodeHist is s in hdrhistogram-go's V2 compressed encoding (base64
// text), "" for nil or an empty snapshot.
func EncodeHist(s *hdrhistogram.Snapshot) (string, error) {
	if s == nil {
		return "", nil
	}
	empty := true
	for _, c := range s.Counts {
		if c != 0 {
			empty = false
			break
		}
	}
	if empty {
		return "", nil
	}
	// Import reads the counts in place and Encode does not write them, so
	// a shared snapshot is safe here.
	b, err := hdrhistogram.Import(s).Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// The V2 format (hdrhistogram-go's hdr_encoding.go, as HdrHistogram's
// Java original): base64 of [cookie int32][length int32][zlib of
// [cookie, payload length, normalizing offset, significant figures int32s;
// lowest, highest int64s; conversion ratio float64][counts as ZigZag
// LEB128, a negative value a run of that many zeros]], big-endian.
const (
	maxInflated    = 4 << 20
	maxHighest     = 1 << 42 // µs: 50 days
	v2Cookie       = 0x1c849303
	v2Compressed   = 0x1c849304
	v2HeaderLength = 40
)

// HistSum adds encoded histograms of one layout (lowest, highest,
// significant figures) count by count, with no histogram built per
// snapshot: the controller's merge of many agents' windows decodes each
// straight into one sum.
type HistSum struct {
	lo, hi, sig int64
	counts      []int64
	top         int // counts past top are zero
	n           int64

	// Scratch reused across Add calls.
	raw, inflated []byte
	z             io.ReadCloser
	br            bytes.Reader
}

// Count is how many values the sum holds.
func (h *HistSum) Count() int64 { return h.n }

// Reset empties the sum, keeping its layout and buffers.
func (h *HistSum) Reset() {
	clear(h.counts[:h.top])
	h.top, h.n = 0, 0
}

// Add decodes one histogram in the V2 compressed encoding into the sum.
// Every histogram added must have the layout of the first.
func (h *HistSum) Add(enc string) error {
	if enc == "" {
		return nil
	}
	need := base64.StdEncoding.DecodedLen(len(enc))
	if cap(h.raw) < need {
		h.raw = make([]byte, need)
	}
	n, err := base64.StdEncoding.Decode(h.raw[:need], []byte(enc))
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	raw := h.raw[:n]
	if len(raw) < 8 || binary.BigEndian.Uint32(raw)&^0xf0 != v2Compressed {
		return errors.New("histogram: not hdrhistogram's V2 compressed encoding")
	}
	clen := int(binary.BigEndian.Uint32(raw[4:]))
	if clen > len(raw)-8 {
		return errors.New("histogram: truncated")
	}
	h.br.Reset(raw[8 : 8+clen])
	if h.z == nil {
		h.z, err = zlib.NewReader(&h.br)
	} else {
		err = h.z.(zlib.Resetter).Reset(&h.br, nil)
	}
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	buf := bytes.NewBuffer(h.inflated[:0])
	// A window's counts inflate to a few KB; a stream past maxInflated is
	// no histogram brink sent.
	if n, err := buf.ReadFrom(io.LimitReader(h.z, maxInflated+1)); err != nil {
		return fmt.Errorf("histogram: %w", err)
	} else if n > maxInflated {
		return errors.New("histogram: inflates past its bound")
	}
	h.inflated = buf.Bytes()
	return h.addPayload(h.inflated)
}

func (h *HistSum) addPayload(d []byte) error {
	if len(d) < v2HeaderLength || binary.BigEndian.Uint32(d)&^0xf0 != v2Cookie {
		return errors.New("histogram: bad header")
	}
	plen := int(binary.BigEndian.Uint32(d[4:]))
	// d[8:12] is the normalizing index offset, which hdrhistogram-go
	// writes (as 1) and never reads: its counts start at index 0.
	sig := int64(binary.BigEndian.Uint32(d[12:]))
	lo := int64(binary.BigEndian.Uint64(d[16:]))
	hi := int64(binary.BigEndian.Uint64(d[24:]))
	if plen != len(d)-v2HeaderLength {
		return errors.New("histogram: payload length differs from its header")
	}
	if h.counts == nil {
		// The engine's layouts: 1 µs up to 30 days, 2 or 3 figures; a
		// wider one would cost a counts array no window needs.
		if sig < 1 || sig > 3 || lo < 1 || hi < 2*lo || hi > maxHighest {
			return fmt.Errorf("histogram: layout %d..%d at %d figures refused", lo, hi, sig)
		}
		h.lo, h.hi, h.sig = lo, hi, sig
		h.counts = hdrhistogram.New(lo, hi, int(sig)).Export().Counts
	} else if lo != h.lo || hi != h.hi || sig != h.sig {
		return fmt.Errorf("histogram: layout %d..%d at %d figures differs from %d..%d at %d", lo, hi, sig, h.lo, h.hi, h.sig)
	}
	p := d[v2HeaderLength:]
	idx := 0
	for len(p) > 0 {
		v, n := zigzag(p)
		if n <= 0 {
			return errors.New("histogram: truncated count")
		}
		p = p[n:]
		if v < 0 {
			idx += int(-v)
			continue
		}
		if idx >= len(h.counts) {
			return errors.New("histogram: count past the layout's range")
		}
		h.counts[idx] += v
		h.n += v
		idx++
		h.top = max(h.top, idx)
	}
	return nil
}

// zigzag reads one ZigZag LEB128 value as hdrhistogram writes it: seven
// bits a byte for eight bytes, all eight bits of a ninth. n is 0 when p
// ends inside the value.
func zigzag(p []byte) (v int64, n int) {
	var u uint64
	for i := 0; i < 9; i++ {
		if i >= len(p) {
			return 0, 0
		}
		b := p[i]
		if i == 8 {
			u |= uint64(b) << 56
			n = 9
			break
		}
		u |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			n = i + 1
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), n
}

// Snapshot is the sum as a mergeable snapshot (a copy), nil when empty.
func (h *HistSum) Snapshot() *hdrhistogram.Snapshot {
	if h.n == 0 {
		return nil
	}
	return &hdrhistogram.Snapshot{LowestTrackableValue: h.lo, HighestTrackableValue: h.hi, SignificantFigures: h.sig,
		Counts: append([]int64(nil), h.counts...)}
}
