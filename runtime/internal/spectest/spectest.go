// Package spectest runs the WebAssembly 2.0 core spec test suite, as
// converted to JSON commands and binary modules by wabt's wast2json, on
// wazero: the conformance harness of docs/CONFORMANCE.md.
//
// Every command of every file is executed and counted as passed, failed or
// skipped (with a reason): module (instantiated, under its registered name
// if a register command names it), register, action (invoke, get),
// assert_return (exact bits, NaN patterns nan:canonical and
// nan:arithmetic, v128 lanes of any lane type, null and extern
// references), assert_trap and assert_exhaustion (the trap must be the
// one the suite names), assert_invalid and assert_malformed (the module
// must not compile), assert_unlinkable and assert_uninstantiable (the
// module must compile and its instantiation must fail). Modules in the text
// format (a few assert_malformed commands) are skipped and counted.
//
// The suite imports the module "spectest", provided here. Options.Transform
// rewrites every module before it is compiled, so that the same run can
// be done on the output of the suspendable transform; the module
// "gate_suspend" that such output imports is then provided as well, and
// never asks for a suspension, unless Options.Suspend turns on the
// suspend-everywhere mode (suspendall.go): every action is then also
// suspended at its checks, written as a snapshot, resumed in a fresh
// runtime and compared with the uninterrupted run.
//
// It lives inside runtime/ because it uses wazero directly.
package spectest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/internal/testprog"
)

// Options control a run.
type Options struct {
	// Transform, if not nil, is applied to every module of the suite
	// (valid or not) before it is compiled. An error from it counts as a
	// refusal of the module: right for assert_invalid and
	// assert_malformed, a failure elsewhere.
	Transform func(binary []byte) ([]byte, error)

	// Known lists commands known to fail, by position ("NAME.wast:LINE",
	// see Position), each with the reason. A listed command that fails is
	// counted as skipped, with that reason; one that passes is counted as
	// passed and reported in FileResult.Stale.
	Known map[string]string

	// Parallel is how many files run at once; 0 means GOMAXPROCS.
	Parallel int

	// Suspend, with a Transform that is the suspendable transform,
	// turns on the suspend-everywhere mode (suspendall.go): every invoke
	// action is also suspended at its checks, resumed from a snapshot in
	// a fresh runtime, and compared with the uninterrupted run.
	Suspend *SuspendOptions
}

// Counts are the outcomes of commands.
type Counts struct {
	Passed, Failed, Skipped int
}

func (c *Counts) add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
}

// Total is the number of commands counted.
func (c Counts) Total() int { return c.Passed + c.Failed + c.Skipped }

// Outcome is what happened to one command that did not pass.
type Outcome struct {
	Position string // "NAME.wast:LINE"
	Command  string // the command's type
	Message  string // why it failed, or why it was skipped
}

func (o Outcome) String() string {
	return fmt.Sprintf("%s: %s: %s", o.Position, o.Command, o.Message)
}

// FileResult is the result of one file of the suite.
type FileResult struct {
	Name     string // the .wast name, e.g. "i32.wast"
	Counts          // all commands
	ByType   map[string]Counts
	Skips    []Outcome
	Failures []Outcome
	// Stale lists the positions in Options.Known whose command passed.
	Stale []string
	// Checks counts the calls of gate_suspend.check (with a Transform).
	Checks int64
	// Suspend counts the suspensions of the suspend-everywhere mode;
	// SuspendFailures are the resumed runs that differed from the
	// uninterrupted ones, or could not be made.
	Suspend         SuspendCounts
	SuspendFailures []Outcome
}

// Result is the result of a run over the suite.
type Result struct {
	Files  []*FileResult // sorted by name
	Total  Counts
	ByType map[string]Counts
	Checks int64 // calls of gate_suspend.check (with a Transform)
	// Suspend sums the files' suspension counts.
	Suspend SuspendCounts
}

// Position names a command: the .wast file of the suite and the command's
// line in it, e.g. "linking.wast:264".
func Position(wast string, line int) string {
	return fmt.Sprintf("%s:%d", wast, line)
}

// Dir returns the directory of the spec suite: $GATE_SPEC_DIR, or else
// ../shared/spec beside the repository root, or "" if there is none.
func Dir() string { return testprog.SpecDir() }

// Files returns the JSON files of the suite in dir (json/NAME/NAME.json),
// sorted.
func Files(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "json", "*", "*.json"))
	sort.Strings(files)
	return files, err
}

// Run runs every file of the suite in dir.
func Run(ctx context.Context, dir string, opts Options) (*Result, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no spec JSON files in %s", filepath.Join(dir, "json"))
	}
	n := opts.Parallel
	if n <= 0 {
		n = goruntime.GOMAXPROCS(0)
	}
	results := make([]*FileResult, len(files))
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for i := range next {
				results[i], errs[i] = RunFile(ctx, files[i], opts)
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := &Result{Files: results, ByType: map[string]Counts{}}
	for _, fr := range results {
		res.Total.add(fr.Counts)
		res.Checks += fr.Checks
		res.Suspend.add(&fr.Suspend)
		for t, c := range fr.ByType {
			s := res.ByType[t]
			s.add(c)
			res.ByType[t] = s
		}
	}
	return res, nil
}

// command is one command of a spec JSON file.
type command struct {
	Type       string  `json:"type"`
	Line       int     `json:"line"`
	Filename   string  `json:"filename"`
	Name       string  `json:"name"`
	As         string  `json:"as"`
	ModuleType string  `json:"module_type"`
	Text       string  `json:"text"`
	Action     *action `json:"action"`
	Expected   []value `json:"expected"`
}

type action struct {
	Type   string  `json:"type"`
	Module string  `json:"module"`
	Field  string  `json:"field"`
	Args   []value `json:"args"`
}

// script is the state of the run of one file.
type script struct {
	ctx  context.Context
	dir  string
	opts Options
	r    wazero.Runtime

	wast string // the file's .wast name, for positions

	// everywhere is the state of the suspend-everywhere mode, if on.
	everywhere *everywhere

	regName map[int]string // module command index -> registered name
	regSkip map[int]string // register command index -> why it is skipped
	modules map[string]*instance
	last    *instance
}

// instance is the outcome of a module command: an instance, or why there
// is none.
type instance struct {
	mod  api.Module
	line int
	err  error
	// susp is what the suspend-everywhere mode knows of the module, if
	// it is on.
	susp *suspendable
}

// outcome kinds.
type status int

const (
	passed status = iota
	failed
	skipped
)

// RunFile runs one JSON file of the suite.
func RunFile(ctx context.Context, path string, opts Options) (*FileResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		SourceFilename string    `json:"source_filename"`
		Commands       []command `json:"commands"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	wast := filepath.Base(file.SourceFilename)
	if wast == "." || wast == "" {
		wast = strings.TrimSuffix(filepath.Base(path), ".json") + ".wast"
	}
	fr := &FileResult{Name: wast, ByType: map[string]Counts{}}

	config := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2)
	r := wazero.NewRuntimeWithConfig(ctx, config)
	defer r.Close(ctx)
	if _, err := r.InstantiateWithConfig(ctx, spectestModule, wazero.NewModuleConfig().WithName("spectest")); err != nil {
		return nil, fmt.Errorf("spectest module: %v", err)
	}
	var checks atomic.Int64
	defer func() { fr.Checks = checks.Load() }()
	if opts.Transform != nil {
		if err := instantiateSuspend(ctx, r, &checks); err != nil {
			return nil, fmt.Errorf("%s module: %v", suspendModule, err)
		}
	}
	s := &script{
		ctx: ctx, dir: filepath.Dir(path), opts: opts, r: r, wast: wast,
		regName: map[int]string{}, regSkip: map[int]string{},
		modules: map[string]*instance{},
	}
	if opts.Suspend != nil && opts.Transform != nil {
		s.everywhere = &everywhere{opts: opts.Suspend, config: config}
		defer func() {
			fr.Suspend, fr.SuspendFailures = s.everywhere.counts, s.everywhere.failures
		}()
	}
	s.planRegistrations(file.Commands)

	for i, c := range file.Commands {
		st, msg := s.run(i, &c)
		pos := Position(wast, c.Line)
		if reason, ok := opts.Known[pos]; ok {
			switch st {
			case failed:
				st, msg = skipped, "known failure: "+reason+" (got: "+msg+")"
			case passed:
				fr.Stale = append(fr.Stale, pos)
			}
		}
		o := Outcome{Position: pos, Command: c.Type, Message: msg}
		tc := fr.ByType[c.Type]
		switch st {
		case passed:
			fr.Passed++
			tc.Passed++
		case failed:
			fr.Failed++
			tc.Failed++
			fr.Failures = append(fr.Failures, o)
		case skipped:
			fr.Skipped++
			tc.Skipped++
			fr.Skips = append(fr.Skips, o)
		}
		fr.ByType[c.Type] = tc
	}
	return fr, nil
}

// planRegistrations decides the name under which each module is
// instantiated. wazero resolves imports by the name a module was
// instantiated with and cannot give an instance a second name, so a module
// that a register command names is instantiated under the registered name
// from the start. (In the suite every register command directly follows
// its module, so no import can tell the difference.) A second register of
// the same module is skipped.
func (s *script) planRegistrations(cmds []command) {
	cur := -1
	byName := map[string]int{}
	for i, c := range cmds {
		switch c.Type {
		case "module":
			cur = i
			if c.Name != "" {
				byName[c.Name] = i
			}
		case "register":
			target := cur
			if c.Name != "" {
				t, ok := byName[c.Name]
				if !ok {
					continue // fails when run
				}
				target = t
			}
			if target < 0 {
				continue
			}
			if prev, ok := s.regName[target]; ok {
				s.regSkip[i] = fmt.Sprintf("the module is already registered as %q, and wazero cannot give an instance a second name", prev)
				continue
			}
			s.regName[target] = c.As
		}
	}
}

// run runs command i.
func (s *script) run(i int, c *command) (status, string) {
	switch c.Type {
	case "module":
		inst := &instance{line: c.Line}
		inst.mod, inst.susp, inst.err = s.instantiate(c.Filename, s.regName[i])
		s.last = inst
		if c.Name != "" {
			s.modules[c.Name] = inst
		}
		if inst.err != nil {
			return failed, inst.err.Error()
		}
		return passed, ""

	case "register":
		if reason, ok := s.regSkip[i]; ok {
			return skipped, reason
		}
		inst, err := s.module(c.Name)
		if err != nil {
			return failed, err.Error()
		}
		if inst.mod.Name() != c.As {
			return failed, fmt.Sprintf("module instantiated as %q, not %q", inst.mod.Name(), c.As)
		}
		return passed, ""

	case "action", "assert_return":
		types, results, callErr, err := s.act(c)
		if err != nil {
			return failed, err.Error()
		}
		if callErr != nil {
			return failed, "trapped: " + firstLine(callErr)
		}
		if c.Type == "action" {
			return passed, ""
		}
		if len(types) != len(c.Expected) {
			return failed, fmt.Sprintf("%d results, want %d", len(types), len(c.Expected))
		}
		k := 0
		for j, want := range c.Expected {
			if want.Type != types[j] {
				return failed, fmt.Sprintf("result %d is %s, want %s", j, types[j], want.Type)
			}
			ok, err := want.match(results[k : k+words(types[j])])
			if err != nil {
				return skipped, "expectation not representable: " + err.Error()
			}
			if !ok {
				return failed, fmt.Sprintf("got %s, want %v", formatResults(types, results), c.Expected)
			}
			k += words(types[j])
		}
		return passed, ""

	case "assert_trap", "assert_exhaustion":
		types, results, callErr, err := s.act(c)
		if err != nil {
			return failed, err.Error()
		}
		if callErr == nil {
			return failed, fmt.Sprintf("no trap (want %q), results %s", c.Text, formatResults(types, results))
		}
		if !trapMatches(c.Text, callErr) {
			return failed, fmt.Sprintf("trapped with %q, want %q", firstLine(callErr), c.Text)
		}
		return passed, ""

	case "assert_malformed", "assert_invalid":
		if c.ModuleType != "binary" {
			return skipped, textSkip
		}
		bin, _, err := s.load(c.Filename)
		if err != nil {
			if errors.Is(err, errTransform) {
				return passed, ""
			}
			return failed, err.Error()
		}
		compiled, err := s.r.CompileModule(s.ctx, bin)
		if err != nil {
			return passed, ""
		}
		compiled.Close(s.ctx)
		return failed, fmt.Sprintf("module compiled, want %q", c.Text)

	case "assert_unlinkable", "assert_uninstantiable":
		if c.ModuleType != "binary" {
			return skipped, textSkip
		}
		mod, _, err := s.instantiate(c.Filename, "")
		if err == nil {
			mod.Close(s.ctx)
			return failed, fmt.Sprintf("module instantiated, want %q", c.Text)
		}
		var ie *instantiateError
		if !errors.As(err, &ie) {
			return failed, err.Error() // not even compiled
		}
		if c.Type == "assert_uninstantiable" && !trapMatches(c.Text, ie.err) {
			return failed, fmt.Sprintf("instantiation failed with %q, want %q", firstLine(ie.err), c.Text)
		}
		return passed, ""
	}
	return failed, fmt.Sprintf("unknown command %q", c.Type)
}

// textSkip is the reason of the skip of a command whose module is in the
// text format.
const textSkip = "module in the text format (the harness runs binary modules only)"

// errTransform marks an error of Options.Transform.
var errTransform = errors.New("transform")

// instantiateError is an error of instantiation (after a successful
// compilation).
type instantiateError struct{ err error }

func (e *instantiateError) Error() string { return "instantiate: " + firstLine(e.err) }
func (e *instantiateError) Unwrap() error { return e.err }

// load reads a module of the suite and transforms it. In the
// suspend-everywhere mode it also prepares the transformed module for
// snapshots (prepare) and says what the mode needs to know of it.
func (s *script) load(filename string) ([]byte, *suspendable, error) {
	bin, err := os.ReadFile(filepath.Join(s.dir, filename))
	if err != nil {
		return nil, nil, err
	}
	if s.opts.Transform == nil {
		return bin, nil, nil
	}
	out, err := s.opts.Transform(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", errTransform, filename, err)
	}
	if s.everywhere == nil {
		return out, nil, nil
	}
	out, sus, err := prepare(bin, out)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filename, err)
	}
	return out, sus, nil
}

// instantiate loads, compiles and instantiates a module under name.
func (s *script) instantiate(filename, name string) (api.Module, *suspendable, error) {
	bin, sus, err := s.load(filename)
	if err != nil {
		return nil, nil, err
	}
	compiled, err := s.r.CompileModule(s.ctx, bin)
	if err != nil {
		return nil, nil, fmt.Errorf("compile %s: %s", filename, firstLine(err))
	}
	mod, err := s.r.InstantiateModule(s.ctx, compiled, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
	if err != nil {
		compiled.Close(s.ctx)
		return nil, nil, &instantiateError{err}
	}
	return mod, sus, nil
}

// module returns the instance of a named module, or of the last one.
func (s *script) module(name string) (*instance, error) {
	inst := s.last
	if name != "" {
		var ok bool
		if inst, ok = s.modules[name]; !ok {
			return nil, fmt.Errorf("no module %s", name)
		}
	}
	if inst == nil {
		return nil, errors.New("no module")
	}
	if inst.err != nil {
		return nil, fmt.Errorf("the module of line %d failed", inst.line)
	}
	return inst, nil
}

// act performs the action of command c: it returns the result types and
// values, the error of the call (a trap), or an error that prevented the
// call.
func (s *script) act(c *command) (types []string, results []uint64, callErr, err error) {
	a := c.Action
	if a == nil {
		return nil, nil, nil, errors.New("command without action")
	}
	inst, err := s.module(a.Module)
	if err != nil {
		return nil, nil, nil, err
	}
	switch a.Type {
	case "invoke":
		fn := inst.mod.ExportedFunction(a.Field)
		if fn == nil {
			return nil, nil, nil, fmt.Errorf("no exported function %q", a.Field)
		}
		def := fn.Definition()
		var args []uint64
		for _, v := range a.Args {
			if args, err = v.encode(args); err != nil {
				return nil, nil, nil, err
			}
		}
		var want int
		for _, t := range def.ParamTypes() {
			want += words(typeName(t))
		}
		if want != len(args) {
			return nil, nil, nil, fmt.Errorf("%s takes %d words of arguments, not %d", a.Field, want, len(args))
		}
		for _, t := range def.ResultTypes() {
			types = append(types, typeName(t))
		}
		if s.everywhere != nil && inst.susp != nil {
			results, callErr = s.invokeEverywhere(c, inst, a.Field, args, types)
			return types, results, callErr, nil
		}
		results, callErr = fn.Call(s.ctx, args...)
		return types, results, callErr, nil
	case "get":
		g := inst.mod.ExportedGlobal(a.Field)
		if g == nil {
			return nil, nil, nil, fmt.Errorf("no exported global %q", a.Field)
		}
		return []string{typeName(g.Type())}, []uint64{g.Get()}, nil, nil
	}
	return nil, nil, nil, fmt.Errorf("unknown action %q", a.Type)
}

// typeName is the suite's name of a value type (api.ValueTypeName knows
// neither v128 nor funcref).
func typeName(t api.ValueType) string {
	switch t {
	case 0x7b:
		return "v128"
	case 0x70:
		return "funcref"
	}
	return api.ValueTypeName(t)
}

// trapTexts maps the suite's trap messages to wazero's, where they differ.
var trapTexts = map[string]string{
	"call stack exhausted":       "stack overflow",
	"out of bounds table access": "invalid table access",
	"undefined element":          "invalid table access",
	"uninitialized element":      "invalid table access",
}

// trapMatches reports whether err is the trap that the suite's text names.
func trapMatches(text string, err error) bool {
	want := text
	if strings.HasPrefix(text, "uninitialized element") {
		want = trapTexts["uninitialized element"]
	} else if t, ok := trapTexts[text]; ok {
		want = t
	}
	return strings.Contains(err.Error(), want)
}

// firstLine returns the first line of an error's message (wazero appends
// a stack trace).
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
