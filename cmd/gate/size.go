package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize accepts, longest first. K, M and G
// are binary, as memory sizes usually are.
var sizeUnits = []struct {
	suffix string
	scale  uint64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// parseSize parses a byte count such as "65536", "64MiB" or "1G".
func parseSize(s string) (uint64, error) {
	num, scale := strings.TrimSpace(s), uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(strings.ToUpper(num), strings.ToUpper(u.suffix)) {
			num, scale = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.scale
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (e.g. 64MiB)", s)
	}
	if n > (1<<63)/scale {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n*scale == 0 {
		return 0, fmt.Errorf("size must be positive")
	}
	return n * scale, nil
}
