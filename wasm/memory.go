package wasm

import (
	"fmt"
)

// Limits are the size limits of a memory, in pages, or of a table, in
// elements.
type Limits struct {
	Min    uint32
	Max    uint32
	HasMax bool
}

const (
	limitsMin    = 0x00
	limitsMinMax = 0x01
)

// readLimits decodes the limits of a memory type and checks that the
// maximum is not below the minimum.
func readLimits(b []byte) (Limits, int, error) {
	l, n, err := decodeLimits(b)
	if err == nil {
		err = checkLimitsOrder(l)
	}
	if err != nil {
		return Limits{}, 0, err
	}
	return l, n, nil
}

// decodeLimits decodes limits without judging them: a maximum below the
// minimum is well-formed, only invalid.
func decodeLimits(b []byte) (Limits, int, error) {
	if len(b) == 0 {
		return Limits{}, 0, errTruncated
	}
	flags := b[0]
	if flags != limitsMin && flags != limitsMinMax {
		// 0x02 and 0x03 mark shared memories (threads proposal) and
		// other values are invalid; neither is WebAssembly 2.0.
		return Limits{}, 0, fmt.Errorf("limits flags 0x%02x are not supported", flags)
	}
	var l Limits
	min, n, err := readU32(b[1:])
	if err != nil {
		return Limits{}, 0, fmt.Errorf("limits minimum: %w", err)
	}
	l.Min, n = min, n+1
	if flags == limitsMinMax {
		max, m, err := readU32(b[n:])
		if err != nil {
			return Limits{}, 0, fmt.Errorf("limits maximum: %w", err)
		}
		l.Max, l.HasMax, n = max, true, n+m
	}
	return l, n, nil
}

func checkLimitsOrder(l Limits) error {
	if l.HasMax && l.Max < l.Min {
		return fmt.Errorf("limits maximum %d is below minimum %d", l.Max, l.Min)
	}
	return nil
}

// checkMemoryLimits checks what a memory's limits add to any limits': a
// 32-bit memory has at most MaxPages pages.
func checkMemoryLimits(l Limits) error {
	if l.Min > MaxPages || (l.HasMax && l.Max > MaxPages) {
		return fmt.Errorf("memory size must be at most %d pages (4 GiB)", MaxPages)
	}
	return nil
}

func appendLimits(b []byte, l Limits) []byte {
	if !l.HasMax {
		return appendU32(append(b, limitsMin), l.Min)
	}
	b = appendU32(append(b, limitsMinMax), l.Min)
	return appendU32(b, l.Max)
}

// Memory returns the limits of the memory that module defines, and false
// if it defines none. A module that imports its memory defines none.
func Memory(module []byte) (Limits, bool, error) {
	sections, err := ReadSections(module)
	if err != nil {
		return Limits{}, false, err
	}
	for _, s := range sections {
		if s.ID == SectionMemory {
			l, _, ok, err := readMemorySection(s)
			return l, ok, err
		}
	}
	return Limits{}, false, nil
}

// readMemorySection decodes the memory section, which in WebAssembly 2.0
// holds at most one memory. It returns the limits and their encoded size.
func readMemorySection(s Section) (Limits, int, bool, error) {
	count, n, err := readU32(s.Payload)
	if err != nil {
		return Limits{}, 0, false, &FormatError{s.Offset, fmt.Errorf("memory count: %w", err)}
	}
	switch count {
	case 0:
		if n != len(s.Payload) {
			return Limits{}, 0, false, &FormatError{s.Offset + n, fmt.Errorf("memory section has %d bytes left over", len(s.Payload)-n)}
		}
		return Limits{}, 0, false, nil
	case 1:
	default:
		return Limits{}, 0, false, &FormatError{s.Offset, fmt.Errorf("%d memories declared; at most one is allowed", count)}
	}
	l, m, err := readLimits(s.Payload[n:])
	if err == nil {
		err = checkMemoryLimits(l)
	}
	if err != nil {
		return Limits{}, 0, false, &FormatError{s.Offset + n, err}
	}
	if n+m != len(s.Payload) {
		return Limits{}, 0, false, &FormatError{s.Offset + n + m, fmt.Errorf("memory section has %d bytes left over", len(s.Payload)-n-m)}
	}
	return l, m, true, nil
}

// MemoryCapError reports a module whose memory cannot fit under a cap.
type MemoryCapError struct {
	MinPages, CapPages uint32
}

func (e *MemoryCapError) Error() string {
	return fmt.Sprintf("module needs at least %d pages (%s) of memory, more than the cap of %d pages (%s)",
		e.MinPages, FormatBytes(uint64(e.MinPages)*PageSize), e.CapPages, FormatBytes(uint64(e.CapPages)*PageSize))
}

// CapMemory returns a copy of module whose defined memory may grow to at
// most capPages pages: its maximum is lowered to capPages, or set to it
// where the module declares none. memory.grow past the cap then fails as
// the specification says, returning -1. A module whose minimum exceeds
// the cap is refused with a *MemoryCapError. A module that defines no
// memory is returned as it is. A cap above MaxPages is taken as MaxPages,
// which no memory can exceed anyway, so that the result stays valid.
func CapMemory(module []byte, capPages uint32) ([]byte, error) {
	capPages = min(capPages, MaxPages)
	sections, err := ReadSections(module)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		if s.ID != SectionMemory {
			continue
		}
		l, _, ok, err := readMemorySection(s)
		if err != nil {
			return nil, err
		}
		if !ok {
			return module, nil
		}
		if l.Min > capPages {
			return nil, &MemoryCapError{MinPages: l.Min, CapPages: capPages}
		}
		if l.HasMax && l.Max <= capPages {
			return module, nil
		}
		l.Max, l.HasMax = capPages, true
		return replaceSection(module, s, appendLimits(appendU32(nil, 1), l)), nil
	}
	return module, nil
}

// replaceSection returns a copy of module with the payload of its
// section s replaced by payload.
func replaceSection(module []byte, s Section, payload []byte) []byte {
	out := make([]byte, 0, len(module)+len(payload)-len(s.Payload)+5)
	out = append(out, module[:s.Start]...)
	out = append(out, byte(s.ID))
	out = appendU32(out, uint32(len(payload)))
	out = append(out, payload...)
	return append(out, module[s.Offset+len(s.Payload):]...)
}

// FormatBytes formats n as a power-of-two size such as "64 MiB".
func FormatBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && n%1024 == 0 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%d %s", n, units[i])
}
