package scenarios

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/brink-load/brink/termtext"
)

// Data files: a group's users (or any rows) as VU variables. A file is
// read once when the scenario loads; its rows are shared read-only by every
// VU, which only keeps the index of the row it reads.

// maxDataBytes bounds a data file: it is held in memory for the run.
const maxDataBytes = 256 << 20

// dataModes lists the modes in the order the docs give them.
var dataModes = []DataMode{DataPerVU, DataRoundRobin, DataRandom}

// dataPath is where a data file named in scenario file lives: relative to
// the scenario's directory, or inside the embedded examples for an
// example:NAME scenario.
func dataPath(scenarioFile, name string) string {
	if filepath.IsAbs(name) || scenarioFile == "" {
		return name
	}
	if strings.HasPrefix(scenarioFile, "example:") {
		return "example:" + path.Clean(name)
	}
	return filepath.Join(filepath.Dir(scenarioFile), name)
}

// LoadData reads d.File (a path as given: Parse has already joined it to
// the scenario's directory) into d.Table: a .json file is an array of
// objects, anything else a CSV whose first row names the columns. Errors
// say the data file's line and column.
func LoadData(d *Data) error {
	var raw []byte
	var err error
	if name, ok := strings.CutPrefix(d.File, "example:"); ok {
		raw, err = examplesFS.ReadFile(path.Join("examples", name))
	} else {
		var f *os.File
		if f, err = os.Open(d.File); err == nil {
			raw, err = io.ReadAll(io.LimitReader(f, maxDataBytes+1))
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", d.File, termtext.BareErr(err))
	}
	if len(raw) > maxDataBytes {
		return fmt.Errorf("%s: larger than %s (a data file is held in memory)", d.File, FormatSize(maxDataBytes))
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if strings.EqualFold(path.Ext(d.File), ".json") {
		d.Table, err = jsonTable(d.File, raw)
	} else {
		d.Table, err = csvTable(d.File, raw)
	}
	return err
}

func csvTable(name string, raw []byte) (*DataTable, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty (want a header row naming the columns, then rows)", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	t := &DataTable{}
	for i, c := range header {
		c = strings.TrimSpace(c)
		if !varName(c) {
			return nil, fmt.Errorf("%s:1:%d: column %q is not a variable name (letters, digits and _, used as {{.name}})", name, csvCol(raw, i), c)
		}
		if slices.Contains(t.Columns, c) {
			return nil, fmt.Errorf("%s:1:%d: column %q twice", name, csvCol(raw, i), c)
		}
		t.Columns = append(t.Columns, c)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		t.Rows = append(t.Rows, rec)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows after the header", name)
	}
	return t, nil
}

// csvCol is the column (1-based, in bytes) of the header's field i, for
// errors; fields are assumed unquoted, as a header's names are.
func csvCol(raw []byte, i int) int {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	col := 1
	for k := 0; k < i; k++ {
		j := bytes.IndexByte(line, ',')
		if j < 0 {
			break
		}
		col += j + 1
		line = line[j+1:]
	}
	return col
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func jsonTable(name string, raw []byte) (*DataTable, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var items []map[string]any
	if err := dec.Decode(&items); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			off = se.Offset
		case errors.As(err, &te):
			off = te.Offset
			err = fmt.Errorf("want an array of objects like [{\"user\": \"ann\"}], got %s", te.Value)
		}
		l, c := lineCol(raw, off)
		return nil, fmt.Errorf("%s:%d:%d: %v", name, l, c, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: an empty array (want objects like {\"user\": \"ann\"})", name)
	}
	t := &DataTable{}
	for k := range items[0] {
		if !varName(k) {
			return nil, fmt.Errorf("%s: key %q of the first object is not a variable name (letters, digits and _)", name, k)
		}
		t.Columns = append(t.Columns, k)
	}
	slices.Sort(t.Columns)
	for i, it := range items {
		row := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			v, ok := it[c]
			if !ok {
				return nil, fmt.Errorf("%s: object %d has no %q (the first object has it)", name, i+1, c)
			}
			switch x := v.(type) {
			case string:
				row[j] = x
			case json.Number:
				row[j] = x.String()
			case bool:
				row[j] = strconv.FormatBool(x)
			default:
				return nil, fmt.Errorf("%s: object %d: %q is not a string, number or boolean", name, i+1, c)
			}
		}
		if len(it) != len(t.Columns) {
			for k := range it {
				if !slices.Contains(t.Columns, k) {
					return nil, fmt.Errorf("%s: object %d has %q, which the first object has not", name, i+1, k)
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// lineCol is the 1-based line and column (in bytes) of offset off in raw.
func lineCol(raw []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(raw)))
	before := raw[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
