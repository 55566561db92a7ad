// Command hello greets whom its arguments name and shows its environment.
// Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("Hello from Gate! (try: hello NAME...)")
	}
	for _, name := range os.Args[1:] {
		fmt.Printf("Hello, %s!\n", name)
	}
	if greeting := os.Getenv("GREETING"); greeting != "" {
		fmt.Println(greeting)
	}
}
