// Command big is the large Go benchmark program: it links much of the
// standard library (encoding, net/http client types, templates, regular
// expressions, compression, cryptography) so that its WebAssembly binary
// is several megabytes, which is what the compile and instantiate
// benchmarks measure. What it does at run time is trivial.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

type record struct {
	Name  string   `json:"name" xml:"name"`
	Tags  []string `json:"tags" xml:"tag"`
	Count int      `json:"count" xml:"count"`
}

func main() {
	r := record{Name: "gate", Tags: []string{"wasm", "bench"}, Count: 3}
	js, _ := json.Marshal(r)
	xs, _ := xml.Marshal(r)

	var buf bytes.Buffer
	texttemplate.Must(texttemplate.New("t").Parse("{{.Name}}:{{range .Tags}}{{.}},{{end}}\n")).Execute(&buf, r)
	template.Must(template.New("h").Parse("<b>{{.Name}}</b>\n")).Execute(&buf, r)
	csv.NewWriter(&buf).WriteAll([][]string{{"a", "b"}, {"1", "2"}})

	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(buf.Bytes())
	gz.Close()

	re := regexp.MustCompile(`^(\w+):`)
	m := re.FindStringSubmatch(buf.String())

	sum := sha256.Sum256(js)
	mac := hmac.New(sha512.New, sum[:])
	mac.Write(xs)
	block, _ := aes.NewCipher(sum[:16])
	gcm, _ := cipher.NewGCM(block)

	u, _ := url.Parse("https://example.com/path?q=1")
	req, _ := http.NewRequest("GET", u.String(), nil)
	req.Header.Set("Accept", "application/json")
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	_ = client

	// Reference the public-key code without running anything slow.
	var keys []any
	if len(os.Args) > 99 {
		k, _ := rsa.GenerateKey(nil, 2048)
		e, _ := ecdsa.GenerateKey(elliptic.P256(), nil)
		_, ed, _ := ed25519.GenerateKey(nil)
		c, _ := x509.ParseCertificate(nil)
		keys = append(keys, k, e, ed, c)
	}

	words := strings.Fields("the quick brown fox jumps over the lazy dog")
	sort.Strings(words)
	f := new(big.Int).MulRange(1, 20)

	fmt.Printf("big: %d json, %d xml, %d gzip, match %q, hmac %x, gcm overhead %d, %s %s, %s, 20! = %s, %d keys\n",
		len(js), len(xs), z.Len(), m[1], mac.Sum(nil)[:4], gcm.Overhead(), req.Method, req.URL.Host,
		base64.StdEncoding.EncodeToString(sum[:3]), f, len(keys))
	fmt.Println(strings.Join(words, " "))
}
