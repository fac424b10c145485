package report

import (
	"math"
	"strconv"
)

// Num is a float64 that writes NaN and ±Inf as JSON null (encoding/json
// refuses them) and reads null back as NaN: a metric that was not available
// stays visibly missing instead of turning into 0.
type Num float64

func nan() Num { return Num(math.NaN()) }

// Valid reports whether n holds a number.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// MarshalJSON writes the shortest representation, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or null (→ NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = nan()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*n = Num(f)
	return nil
}
