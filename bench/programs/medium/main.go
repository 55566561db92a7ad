// Command medium is the 4 MB Go benchmark program: it links a moderate set
// of standard packages (JSON, CSV and base64, formatting, strings,
// sorting, regular expressions, gzip, math/big) so that its WebAssembly
// binary is about 4 MB (4.07 MiB with Go 1.26), the size the compile and
// instantiate benchmarks are asked to measure. What it does at run time is
// trivial, but it uses every package, so that none is dead-code
// eliminated. (text/template alone would add over 2 MB: it keeps every
// exported method reachable.)
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"
)

type record struct {
	Name  string   `json:"name"`
	Tags  []string `json:"tags"`
	Count int      `json:"count"`
}

func main() {
	r := record{Name: "gate", Tags: []string{"wasm", "bench"}, Count: 3}
	js, _ := json.Marshal(r)
	var back record
	if err := json.Unmarshal(js, &back); err != nil {
		panic(err)
	}

	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(js)
	gz.Close()

	re := regexp.MustCompile(`"(\w+)":`)
	keys := re.FindAllStringSubmatch(string(js), -1)

	words := strings.Fields("the quick brown fox jumps over the lazy dog")
	sort.Strings(words)

	f := new(big.Int).MulRange(1, 30)

	var rows bytes.Buffer
	csv.NewWriter(&rows).WriteAll([][]string{{"name", "count"}, {back.Name, fmt.Sprint(back.Count)}})

	fmt.Printf("medium: %d json, %d gzip, %d keys, %d csv, %s %v, 30! = %s, %s\n", len(js), z.Len(), len(keys), rows.Len(),
		back.Name, back.Tags, f, base64.StdEncoding.EncodeToString(js[:6]))
	fmt.Println(strings.Join(words, " "))
}
