package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseOffsetList(t *testing.T) {
	got, err := parseOffsetList("--start-offsets", " 0:12, 2:0,1:7 ")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 12, 1: 7, 2: 0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, err := parseOffsetList("--end-offsets", ""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"0", "0:x", "a:1", "-1:3", "0:-3", "0:1,0:2"} {
		if _, err := parseOffsetList("--start-offsets", bad); err == nil {
			t.Errorf("%q: no error", bad)
		} else if !strings.Contains(err.Error(), "--start-offsets") {
			t.Errorf("%q: error does not name the flag: %v", bad, err)
		}
	}
}

func TestDumpRangesClampsToTheTopic(t *testing.T) {
	starts := map[int32]int64{0: 0, 1: 50, 2: 0}
	ends := map[int32]int64{0: 100, 1: 120, 2: 30}
	from := map[int32]int64{0: 40, 1: 10, 5: 3}
	to := map[int32]int64{0: 90, 1: 200}
	ranges, warnings := dumpRanges(starts, ends, from, to)
	want := map[int32]offsetRange{
		0: {40, 90},  // both bounds as asked
		1: {50, 120}, // records 10..49 deleted; 200 is past the end
		2: {0, 30},   // not asked: the whole partition
	}
	if !reflect.DeepEqual(ranges, want) {
		t.Fatalf("ranges = %v, want %v", ranges, want)
	}
	joined := strings.Join(warnings, "\n")
	for _, part := range []string{"[10, 50) were deleted", "200 is past", "partition 5 is not in the topic"} {
		if !strings.Contains(joined, part) {
			t.Errorf("warnings %q lack %q", joined, part)
		}
	}
}

func TestDumpRangesWithoutBoundsIsTheWholeTopic(t *testing.T) {
	ranges, warnings := dumpRanges(map[int32]int64{0: 3}, map[int32]int64{0: 9}, nil, nil)
	if !reflect.DeepEqual(ranges, map[int32]offsetRange{0: {3, 9}}) || len(warnings) != 0 {
		t.Fatalf("ranges = %v, warnings = %v", ranges, warnings)
	}
}
