package suspend

import "flag"

var allWabt = flag.Bool("wabt", false, "check every transformed spec module with wabt's wasm-validate")
