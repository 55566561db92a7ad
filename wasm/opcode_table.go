package wasm

// This file lists the instructions of WebAssembly 2.0 as the
// specification's binary format chapter numbers them. A new opcode needs
// its constant and its row in opcodeTable.

// The opcodes of WebAssembly 2.0. A prefixed opcode is the prefix byte
// (0xFC or 0xFD) shifted left by 8, or-ed with its sub-opcode.
const (
	OpUnreachable               Opcode = 0x00
	OpNop                       Opcode = 0x01
	OpBlock                     Opcode = 0x02
	OpLoop                      Opcode = 0x03
	OpIf                        Opcode = 0x04
	OpElse                      Opcode = 0x05
	OpEnd                       Opcode = 0x0b
	OpBr                        Opcode = 0x0c
	OpBrIf                      Opcode = 0x0d
	OpBrTable                   Opcode = 0x0e
	OpReturn                    Opcode = 0x0f
	OpCall                      Opcode = 0x10
	OpCallIndirect              Opcode = 0x11
	OpDrop                      Opcode = 0x1a
	OpSelect                    Opcode = 0x1b
	OpSelectT                   Opcode = 0x1c
	OpLocalGet                  Opcode = 0x20
	OpLocalSet                  Opcode = 0x21
	OpLocalTee                  Opcode = 0x22
	OpGlobalGet                 Opcode = 0x23
	OpGlobalSet                 Opcode = 0x24
	OpTableGet                  Opcode = 0x25
	OpTableSet                  Opcode = 0x26
	OpI32Load                   Opcode = 0x28
	OpI64Load                   Opcode = 0x29
	OpF32Load                   Opcode = 0x2a
	OpF64Load                   Opcode = 0x2b
	OpI32Load8S                 Opcode = 0x2c
	OpI32Load8U                 Opcode = 0x2d
	OpI32Load16S                Opcode = 0x2e
	OpI32Load16U                Opcode = 0x2f
	OpI64Load8S                 Opcode = 0x30
	OpI64Load8U                 Opcode = 0x31
	OpI64Load16S                Opcode = 0x32
	OpI64Load16U                Opcode = 0x33
	OpI64Load32S                Opcode = 0x34
	OpI64Load32U                Opcode = 0x35
	OpI32Store                  Opcode = 0x36
	OpI64Store                  Opcode = 0x37
	OpF32Store                  Opcode = 0x38
	OpF64Store                  Opcode = 0x39
	OpI32Store8                 Opcode = 0x3a
	OpI32Store16                Opcode = 0x3b
	OpI64Store8                 Opcode = 0x3c
	OpI64Store16                Opcode = 0x3d
	OpI64Store32                Opcode = 0x3e
	OpMemorySize                Opcode = 0x3f
	OpMemoryGrow                Opcode = 0x40
	OpI32Const                  Opcode = 0x41
	OpI64Const                  Opcode = 0x42
	OpF32Const                  Opcode = 0x43
	OpF64Const                  Opcode = 0x44
	OpI32Eqz                    Opcode = 0x45
	OpI32Eq                     Opcode = 0x46
	OpI32Ne                     Opcode = 0x47
	OpI32LtS                    Opcode = 0x48
	OpI32LtU                    Opcode = 0x49
	OpI32GtS                    Opcode = 0x4a
	OpI32GtU                    Opcode = 0x4b
	OpI32LeS                    Opcode = 0x4c
	OpI32LeU                    Opcode = 0x4d
	OpI32GeS                    Opcode = 0x4e
	OpI32GeU                    Opcode = 0x4f
	OpI64Eqz                    Opcode = 0x50
	OpI64Eq                     Opcode = 0x51
	OpI64Ne                     Opcode = 0x52
	OpI64LtS                    Opcode = 0x53
	OpI64LtU                    Opcode = 0x54
	OpI64GtS                    Opcode = 0x55
	OpI64GtU                    Opcode = 0x56
	OpI64LeS                    Opcode = 0x57
	OpI64LeU                    Opcode = 0x58
	OpI64GeS                    Opcode = 0x59
	OpI64GeU                    Opcode = 0x5a
	OpF32Eq                     Opcode = 0x5b
	OpF32Ne                     Opcode = 0x5c
	OpF32Lt                     Opcode = 0x5d
	OpF32Gt                     Opcode = 0x5e
	OpF32Le                     Opcode = 0x5f
	OpF32Ge                     Opcode = 0x60
	OpF64Eq                     Opcode = 0x61
	OpF64Ne                     Opcode = 0x62
	OpF64Lt                     Opcode = 0x63
	OpF64Gt                     Opcode = 0x64
	OpF64Le                     Opcode = 0x65
	OpF64Ge                     Opcode = 0x66
	OpI32Clz                    Opcode = 0x67
	OpI32Ctz                    Opcode = 0x68
	OpI32Popcnt                 Opcode = 0x69
	OpI32Add                    Opcode = 0x6a
	OpI32Sub                    Opcode = 0x6b
	OpI32Mul                    Opcode = 0x6c
	OpI32DivS                   Opcode = 0x6d
	OpI32DivU                   Opcode = 0x6e
	OpI32RemS                   Opcode = 0x6f
	OpI32RemU                   Opcode = 0x70
	OpI32And                    Opcode = 0x71
	OpI32Or                     Opcode = 0x72
	OpI32Xor                    Opcode = 0x73
	OpI32Shl                    Opcode = 0x74
	OpI32ShrS                   Opcode = 0x75
	OpI32ShrU                   Opcode = 0x76
	OpI32Rotl                   Opcode = 0x77
	OpI32Rotr                   Opcode = 0x78
	OpI64Clz                    Opcode = 0x79
	OpI64Ctz                    Opcode = 0x7a
	OpI64Popcnt                 Opcode = 0x7b
	OpI64Add                    Opcode = 0x7c
	OpI64Sub                    Opcode = 0x7d
	OpI64Mul                    Opcode = 0x7e
	OpI64DivS                   Opcode = 0x7f
	OpI64DivU                   Opcode = 0x80
	OpI64RemS                   Opcode = 0x81
	OpI64RemU                   Opcode = 0x82
	OpI64And                    Opcode = 0x83
	OpI64Or                     Opcode = 0x84
	OpI64Xor                    Opcode = 0x85
	OpI64Shl                    Opcode = 0x86
	OpI64ShrS                   Opcode = 0x87
	OpI64ShrU                   Opcode = 0x88
	OpI64Rotl                   Opcode = 0x89
	OpI64Rotr                   Opcode = 0x8a
	OpF32Abs                    Opcode = 0x8b
	OpF32Neg                    Opcode = 0x8c
	OpF32Ceil                   Opcode = 0x8d
	OpF32Floor                  Opcode = 0x8e
	OpF32Trunc                  Opcode = 0x8f
	OpF32Nearest                Opcode = 0x90
	OpF32Sqrt                   Opcode = 0x91
	OpF32Add                    Opcode = 0x92
	OpF32Sub                    Opcode = 0x93
	OpF32Mul                    Opcode = 0x94
	OpF32Div                    Opcode = 0x95
	OpF32Min                    Opcode = 0x96
	OpF32Max                    Opcode = 0x97
	OpF32Copysign               Opcode = 0x98
	OpF64Abs                    Opcode = 0x99
	OpF64Neg                    Opcode = 0x9a
	OpF64Ceil                   Opcode = 0x9b
	OpF64Floor                  Opcode = 0x9c
	OpF64Trunc                  Opcode = 0x9d
	OpF64Nearest                Opcode = 0x9e
	OpF64Sqrt                   Opcode = 0x9f
	OpF64Add                    Opcode = 0xa0
	OpF64Sub                    Opcode = 0xa1
	OpF64Mul                    Opcode = 0xa2
	OpF64Div                    Opcode = 0xa3
	OpF64Min                    Opcode = 0xa4
	OpF64Max                    Opcode = 0xa5
	OpF64Copysign               Opcode = 0xa6
	OpI32WrapI64                Opcode = 0xa7
	OpI32TruncF32S              Opcode = 0xa8
	OpI32TruncF32U              Opcode = 0xa9
	OpI32TruncF64S              Opcode = 0xaa
	OpI32TruncF64U              Opcode = 0xab
	OpI64ExtendI32S             Opcode = 0xac
	OpI64ExtendI32U             Opcode = 0xad
	OpI64TruncF32S              Opcode = 0xae
	OpI64TruncF32U              Opcode = 0xaf
	OpI64TruncF64S              Opcode = 0xb0
	OpI64TruncF64U              Opcode = 0xb1
	OpF32ConvertI32S            Opcode = 0xb2
	OpF32ConvertI32U            Opcode = 0xb3
	OpF32ConvertI64S            Opcode = 0xb4
	OpF32ConvertI64U            Opcode = 0xb5
	OpF32DemoteF64              Opcode = 0xb6
	OpF64ConvertI32S            Opcode = 0xb7
	OpF64ConvertI32U            Opcode = 0xb8
	OpF64ConvertI64S            Opcode = 0xb9
	OpF64ConvertI64U            Opcode = 0xba
	OpF64PromoteF32             Opcode = 0xbb
	OpI32ReinterpretF32         Opcode = 0xbc
	OpI64ReinterpretF64         Opcode = 0xbd
	OpF32ReinterpretI32         Opcode = 0xbe
	OpF64ReinterpretI64         Opcode = 0xbf
	OpI32Extend8S               Opcode = 0xc0
	OpI32Extend16S              Opcode = 0xc1
	OpI64Extend8S               Opcode = 0xc2
	OpI64Extend16S              Opcode = 0xc3
	OpI64Extend32S              Opcode = 0xc4
	OpRefNull                   Opcode = 0xd0
	OpRefIsNull                 Opcode = 0xd1
	OpRefFunc                   Opcode = 0xd2
	OpI32TruncSatF32S           Opcode = 0xfc00
	OpI32TruncSatF32U           Opcode = 0xfc01
	OpI32TruncSatF64S           Opcode = 0xfc02
	OpI32TruncSatF64U           Opcode = 0xfc03
	OpI64TruncSatF32S           Opcode = 0xfc04
	OpI64TruncSatF32U           Opcode = 0xfc05
	OpI64TruncSatF64S           Opcode = 0xfc06
	OpI64TruncSatF64U           Opcode = 0xfc07
	OpMemoryInit                Opcode = 0xfc08
	OpDataDrop                  Opcode = 0xfc09
	OpMemoryCopy                Opcode = 0xfc0a
	OpMemoryFill                Opcode = 0xfc0b
	OpTableInit                 Opcode = 0xfc0c
	OpElemDrop                  Opcode = 0xfc0d
	OpTableCopy                 Opcode = 0xfc0e
	OpTableGrow                 Opcode = 0xfc0f
	OpTableSize                 Opcode = 0xfc10
	OpTableFill                 Opcode = 0xfc11
	OpV128Load                  Opcode = 0xfd00
	OpV128Load8x8S              Opcode = 0xfd01
	OpV128Load8x8U              Opcode = 0xfd02
	OpV128Load16x4S             Opcode = 0xfd03
	OpV128Load16x4U             Opcode = 0xfd04
	OpV128Load32x2S             Opcode = 0xfd05
	OpV128Load32x2U             Opcode = 0xfd06
	OpV128Load8Splat            Opcode = 0xfd07
	OpV128Load16Splat           Opcode = 0xfd08
	OpV128Load32Splat           Opcode = 0xfd09
	OpV128Load64Splat           Opcode = 0xfd0a
	OpV128Store                 Opcode = 0xfd0b
	OpV128Const                 Opcode = 0xfd0c
	OpI8x16Shuffle              Opcode = 0xfd0d
	OpI8x16Swizzle              Opcode = 0xfd0e
	OpI8x16Splat                Opcode = 0xfd0f
	OpI16x8Splat                Opcode = 0xfd10
	OpI32x4Splat                Opcode = 0xfd11
	OpI64x2Splat                Opcode = 0xfd12
	OpF32x4Splat                Opcode = 0xfd13
	OpF64x2Splat                Opcode = 0xfd14
	OpI8x16ExtractLaneS         Opcode = 0xfd15
	OpI8x16ExtractLaneU         Opcode = 0xfd16
	OpI8x16ReplaceLane          Opcode = 0xfd17
	OpI16x8ExtractLaneS         Opcode = 0xfd18
	OpI16x8ExtractLaneU         Opcode = 0xfd19
	OpI16x8ReplaceLane          Opcode = 0xfd1a
	OpI32x4ExtractLane          Opcode = 0xfd1b
	OpI32x4ReplaceLane          Opcode = 0xfd1c
	OpI64x2ExtractLane          Opcode = 0xfd1d
	OpI64x2ReplaceLane          Opcode = 0xfd1e
	OpF32x4ExtractLane          Opcode = 0xfd1f
	OpF32x4ReplaceLane          Opcode = 0xfd20
	OpF64x2ExtractLane          Opcode = 0xfd21
	OpF64x2ReplaceLane          Opcode = 0xfd22
	OpI8x16Eq                   Opcode = 0xfd23
	OpI8x16Ne                   Opcode = 0xfd24
	OpI8x16LtS                  Opcode = 0xfd25
	OpI8x16LtU                  Opcode = 0xfd26
	OpI8x16GtS                  Opcode = 0xfd27
	OpI8x16GtU                  Opcode = 0xfd28
	OpI8x16LeS                  Opcode = 0xfd29
	OpI8x16LeU                  Opcode = 0xfd2a
	OpI8x16GeS                  Opcode = 0xfd2b
	OpI8x16GeU                  Opcode = 0xfd2c
	OpI16x8Eq                   Opcode = 0xfd2d
	OpI16x8Ne                   Opcode = 0xfd2e
	OpI16x8LtS                  Opcode = 0xfd2f
	OpI16x8LtU                  Opcode = 0xfd30
	OpI16x8GtS                  Opcode = 0xfd31
	OpI16x8GtU                  Opcode = 0xfd32
	OpI16x8LeS                  Opcode = 0xfd33
	OpI16x8LeU                  Opcode = 0xfd34
	OpI16x8GeS                  Opcode = 0xfd35
	OpI16x8GeU                  Opcode = 0xfd36
	OpI32x4Eq                   Opcode = 0xfd37
	OpI32x4Ne                   Opcode = 0xfd38
	OpI32x4LtS                  Opcode = 0xfd39
	OpI32x4LtU                  Opcode = 0xfd3a
	OpI32x4GtS                  Opcode = 0xfd3b
	OpI32x4GtU                  Opcode = 0xfd3c
	OpI32x4LeS                  Opcode = 0xfd3d
	OpI32x4LeU                  Opcode = 0xfd3e
	OpI32x4GeS                  Opcode = 0xfd3f
	OpI32x4GeU                  Opcode = 0xfd40
	OpF32x4Eq                   Opcode = 0xfd41
	OpF32x4Ne                   Opcode = 0xfd42
	OpF32x4Lt                   Opcode = 0xfd43
	OpF32x4Gt                   Opcode = 0xfd44
	OpF32x4Le                   Opcode = 0xfd45
	OpF32x4Ge                   Opcode = 0xfd46
	OpF64x2Eq                   Opcode = 0xfd47
	OpF64x2Ne                   Opcode = 0xfd48
	OpF64x2Lt                   Opcode = 0xfd49
	OpF64x2Gt                   Opcode = 0xfd4a
	OpF64x2Le                   Opcode = 0xfd4b
	OpF64x2Ge                   Opcode = 0xfd4c
	OpV128Not                   Opcode = 0xfd4d
	OpV128And                   Opcode = 0xfd4e
	OpV128Andnot                Opcode = 0xfd4f
	OpV128Or                    Opcode = 0xfd50
	OpV128Xor                   Opcode = 0xfd51
	OpV128Bitselect             Opcode = 0xfd52
	OpV128AnyTrue               Opcode = 0xfd53
	OpV128Load8Lane             Opcode = 0xfd54
	OpV128Load16Lane            Opcode = 0xfd55
	OpV128Load32Lane            Opcode = 0xfd56
	OpV128Load64Lane            Opcode = 0xfd57
	OpV128Store8Lane            Opcode = 0xfd58
	OpV128Store16Lane           Opcode = 0xfd59
	OpV128Store32Lane           Opcode = 0xfd5a
	OpV128Store64Lane           Opcode = 0xfd5b
	OpV128Load32Zero            Opcode = 0xfd5c
	OpV128Load64Zero            Opcode = 0xfd5d
	OpF32x4DemoteF64x2Zero      Opcode = 0xfd5e
	OpF64x2PromoteLowF32x4      Opcode = 0xfd5f
	OpI8x16Abs                  Opcode = 0xfd60
	OpI8x16Neg                  Opcode = 0xfd61
	OpI8x16Popcnt               Opcode = 0xfd62
	OpI8x16AllTrue              Opcode = 0xfd63
	OpI8x16Bitmask              Opcode = 0xfd64
	OpI8x16NarrowI16x8S         Opcode = 0xfd65
	OpI8x16NarrowI16x8U         Opcode = 0xfd66
	OpF32x4Ceil                 Opcode = 0xfd67
	OpF32x4Floor                Opcode = 0xfd68
	OpF32x4Trunc                Opcode = 0xfd69
	OpF32x4Nearest              Opcode = 0xfd6a
	OpI8x16Shl                  Opcode = 0xfd6b
	OpI8x16ShrS                 Opcode = 0xfd6c
	OpI8x16ShrU                 Opcode = 0xfd6d
	OpI8x16Add                  Opcode = 0xfd6e
	OpI8x16AddSatS              Opcode = 0xfd6f
	OpI8x16AddSatU              Opcode = 0xfd70
	OpI8x16Sub                  Opcode = 0xfd71
	OpI8x16SubSatS              Opcode = 0xfd72
	OpI8x16SubSatU              Opcode = 0xfd73
	OpF64x2Ceil                 Opcode = 0xfd74
	OpF64x2Floor                Opcode = 0xfd75
	OpI8x16MinS                 Opcode = 0xfd76
	OpI8x16MinU                 Opcode = 0xfd77
	OpI8x16MaxS                 Opcode = 0xfd78
	OpI8x16MaxU                 Opcode = 0xfd79
	OpF64x2Trunc                Opcode = 0xfd7a
	OpI8x16AvgrU                Opcode = 0xfd7b
	OpI16x8ExtaddPairwiseI8x16S Opcode = 0xfd7c
	OpI16x8ExtaddPairwiseI8x16U Opcode = 0xfd7d
	OpI32x4ExtaddPairwiseI16x8S Opcode = 0xfd7e
	OpI32x4ExtaddPairwiseI16x8U Opcode = 0xfd7f
	OpI16x8Abs                  Opcode = 0xfd80
	OpI16x8Neg                  Opcode = 0xfd81
	OpI16x8Q15mulrSatS          Opcode = 0xfd82
	OpI16x8AllTrue              Opcode = 0xfd83
	OpI16x8Bitmask              Opcode = 0xfd84
	OpI16x8NarrowI32x4S         Opcode = 0xfd85
	OpI16x8NarrowI32x4U         Opcode = 0xfd86
	OpI16x8ExtendLowI8x16S      Opcode = 0xfd87
	OpI16x8ExtendHighI8x16S     Opcode = 0xfd88
	OpI16x8ExtendLowI8x16U      Opcode = 0xfd89
	OpI16x8ExtendHighI8x16U     Opcode = 0xfd8a
	OpI16x8Shl                  Opcode = 0xfd8b
	OpI16x8ShrS                 Opcode = 0xfd8c
	OpI16x8ShrU                 Opcode = 0xfd8d
	OpI16x8Add                  Opcode = 0xfd8e
	OpI16x8AddSatS              Opcode = 0xfd8f
	OpI16x8AddSatU              Opcode = 0xfd90
	OpI16x8Sub                  Opcode = 0xfd91
	OpI16x8SubSatS              Opcode = 0xfd92
	OpI16x8SubSatU              Opcode = 0xfd93
	OpF64x2Nearest              Opcode = 0xfd94
	OpI16x8Mul                  Opcode = 0xfd95
	OpI16x8MinS                 Opcode = 0xfd96
	OpI16x8MinU                 Opcode = 0xfd97
	OpI16x8MaxS                 Opcode = 0xfd98
	OpI16x8MaxU                 Opcode = 0xfd99
	OpI16x8AvgrU                Opcode = 0xfd9b
	OpI16x8ExtmulLowI8x16S      Opcode = 0xfd9c
	OpI16x8ExtmulHighI8x16S     Opcode = 0xfd9d
	OpI16x8ExtmulLowI8x16U      Opcode = 0xfd9e
	OpI16x8ExtmulHighI8x16U     Opcode = 0xfd9f
	OpI32x4Abs                  Opcode = 0xfda0
	OpI32x4Neg                  Opcode = 0xfda1
	OpI32x4AllTrue              Opcode = 0xfda3
	OpI32x4Bitmask              Opcode = 0xfda4
	OpI32x4ExtendLowI16x8S      Opcode = 0xfda7
	OpI32x4ExtendHighI16x8S     Opcode = 0xfda8
	OpI32x4ExtendLowI16x8U      Opcode = 0xfda9
	OpI32x4ExtendHighI16x8U     Opcode = 0xfdaa
	OpI32x4Shl                  Opcode = 0xfdab
	OpI32x4ShrS                 Opcode = 0xfdac
	OpI32x4ShrU                 Opcode = 0xfdad
	OpI32x4Add                  Opcode = 0xfdae
	OpI32x4Sub                  Opcode = 0xfdb1
	OpI32x4Mul                  Opcode = 0xfdb5
	OpI32x4MinS                 Opcode = 0xfdb6
	OpI32x4MinU                 Opcode = 0xfdb7
	OpI32x4MaxS                 Opcode = 0xfdb8
	OpI32x4MaxU                 Opcode = 0xfdb9
	OpI32x4DotI16x8S            Opcode = 0xfdba
	OpI32x4ExtmulLowI16x8S      Opcode = 0xfdbc
	OpI32x4ExtmulHighI16x8S     Opcode = 0xfdbd
	OpI32x4ExtmulLowI16x8U      Opcode = 0xfdbe
	OpI32x4ExtmulHighI16x8U     Opcode = 0xfdbf
	OpI64x2Abs                  Opcode = 0xfdc0
	OpI64x2Neg                  Opcode = 0xfdc1
	OpI64x2AllTrue              Opcode = 0xfdc3
	OpI64x2Bitmask              Opcode = 0xfdc4
	OpI64x2ExtendLowI32x4S      Opcode = 0xfdc7
	OpI64x2ExtendHighI32x4S     Opcode = 0xfdc8
	OpI64x2ExtendLowI32x4U      Opcode = 0xfdc9
	OpI64x2ExtendHighI32x4U     Opcode = 0xfdca
	OpI64x2Shl                  Opcode = 0xfdcb
	OpI64x2ShrS                 Opcode = 0xfdcc
	OpI64x2ShrU                 Opcode = 0xfdcd
	OpI64x2Add                  Opcode = 0xfdce
	OpI64x2Sub                  Opcode = 0xfdd1
	OpI64x2Mul                  Opcode = 0xfdd5
	OpI64x2Eq                   Opcode = 0xfdd6
	OpI64x2Ne                   Opcode = 0xfdd7
	OpI64x2LtS                  Opcode = 0xfdd8
	OpI64x2GtS                  Opcode = 0xfdd9
	OpI64x2LeS                  Opcode = 0xfdda
	OpI64x2GeS                  Opcode = 0xfddb
	OpI64x2ExtmulLowI32x4S      Opcode = 0xfddc
	OpI64x2ExtmulHighI32x4S     Opcode = 0xfddd
	OpI64x2ExtmulLowI32x4U      Opcode = 0xfdde
	OpI64x2ExtmulHighI32x4U     Opcode = 0xfddf
	OpF32x4Abs                  Opcode = 0xfde0
	OpF32x4Neg                  Opcode = 0xfde1
	OpF32x4Sqrt                 Opcode = 0xfde3
	OpF32x4Add                  Opcode = 0xfde4
	OpF32x4Sub                  Opcode = 0xfde5
	OpF32x4Mul                  Opcode = 0xfde6
	OpF32x4Div                  Opcode = 0xfde7
	OpF32x4Min                  Opcode = 0xfde8
	OpF32x4Max                  Opcode = 0xfde9
	OpF32x4Pmin                 Opcode = 0xfdea
	OpF32x4Pmax                 Opcode = 0xfdeb
	OpF64x2Abs                  Opcode = 0xfdec
	OpF64x2Neg                  Opcode = 0xfded
	OpF64x2Sqrt                 Opcode = 0xfdef
	OpF64x2Add                  Opcode = 0xfdf0
	OpF64x2Sub                  Opcode = 0xfdf1
	OpF64x2Mul                  Opcode = 0xfdf2
	OpF64x2Div                  Opcode = 0xfdf3
	OpF64x2Min                  Opcode = 0xfdf4
	OpF64x2Max                  Opcode = 0xfdf5
	OpF64x2Pmin                 Opcode = 0xfdf6
	OpF64x2Pmax                 Opcode = 0xfdf7
	OpI32x4TruncSatF32x4S       Opcode = 0xfdf8
	OpI32x4TruncSatF32x4U       Opcode = 0xfdf9
	OpF32x4ConvertI32x4S        Opcode = 0xfdfa
	OpF32x4ConvertI32x4U        Opcode = 0xfdfb
	OpI32x4TruncSatF64x2SZero   Opcode = 0xfdfc
	OpI32x4TruncSatF64x2UZero   Opcode = 0xfdfd
	OpF64x2ConvertLowI32x4S     Opcode = 0xfdfe
	OpF64x2ConvertLowI32x4U     Opcode = 0xfdff
)

// opcodeTable describes every opcode: its text name, its immediates, and
// for the instructions whose typing is a fixed signature, that signature
// (operand types, then result types; see parseSig). Memory instructions
// also give the log2 of their natural alignment, lane instructions the
// number of lanes an immediate may address.
var opcodeTable = [...]opcodeInfo{
	{op: OpUnreachable, name: "unreachable"},
	{op: OpNop, name: "nop"},
	{op: OpBlock, name: "block", imm: immBlock},
	{op: OpLoop, name: "loop", imm: immBlock},
	{op: OpIf, name: "if", imm: immBlock},
	{op: OpElse, name: "else"},
	{op: OpEnd, name: "end"},
	{op: OpBr, name: "br", imm: immIndex},
	{op: OpBrIf, name: "br_if", imm: immIndex},
	{op: OpBrTable, name: "br_table", imm: immBrTable},
	{op: OpReturn, name: "return"},
	{op: OpCall, name: "call", imm: immIndex},
	{op: OpCallIndirect, name: "call_indirect", imm: immCallIndirect},
	{op: OpDrop, name: "drop"},
	{op: OpSelect, name: "select"},
	{op: OpSelectT, name: "select_t", imm: immSelectT},
	{op: OpLocalGet, name: "local.get", imm: immIndex},
	{op: OpLocalSet, name: "local.set", imm: immIndex},
	{op: OpLocalTee, name: "local.tee", imm: immIndex},
	{op: OpGlobalGet, name: "global.get", imm: immIndex},
	{op: OpGlobalSet, name: "global.set", imm: immIndex},
	{op: OpTableGet, name: "table.get", imm: immIndex},
	{op: OpTableSet, name: "table.set", imm: immIndex},
	{op: OpI32Load, name: "i32.load", imm: immMemArg, sig: "i:i", align: 2},
	{op: OpI64Load, name: "i64.load", imm: immMemArg, sig: "i:I", align: 3},
	{op: OpF32Load, name: "f32.load", imm: immMemArg, sig: "i:f", align: 2},
	{op: OpF64Load, name: "f64.load", imm: immMemArg, sig: "i:F", align: 3},
	{op: OpI32Load8S, name: "i32.load8_s", imm: immMemArg, sig: "i:i"},
	{op: OpI32Load8U, name: "i32.load8_u", imm: immMemArg, sig: "i:i"},
	{op: OpI32Load16S, name: "i32.load16_s", imm: immMemArg, sig: "i:i", align: 1},
	{op: OpI32Load16U, name: "i32.load16_u", imm: immMemArg, sig: "i:i", align: 1},
	{op: OpI64Load8S, name: "i64.load8_s", imm: immMemArg, sig: "i:I"},
	{op: OpI64Load8U, name: "i64.load8_u", imm: immMemArg, sig: "i:I"},
	{op: OpI64Load16S, name: "i64.load16_s", imm: immMemArg, sig: "i:I", align: 1},
	{op: OpI64Load16U, name: "i64.load16_u", imm: immMemArg, sig: "i:I", align: 1},
	{op: OpI64Load32S, name: "i64.load32_s", imm: immMemArg, sig: "i:I", align: 2},
	{op: OpI64Load32U, name: "i64.load32_u", imm: immMemArg, sig: "i:I", align: 2},
	{op: OpI32Store, name: "i32.store", imm: immMemArg, sig: "ii:", align: 2},
	{op: OpI64Store, name: "i64.store", imm: immMemArg, sig: "iI:", align: 3},
	{op: OpF32Store, name: "f32.store", imm: immMemArg, sig: "if:", align: 2},
	{op: OpF64Store, name: "f64.store", imm: immMemArg, sig: "iF:", align: 3},
	{op: OpI32Store8, name: "i32.store8", imm: immMemArg, sig: "ii:"},
	{op: OpI32Store16, name: "i32.store16", imm: immMemArg, sig: "ii:", align: 1},
	{op: OpI64Store8, name: "i64.store8", imm: immMemArg, sig: "iI:"},
	{op: OpI64Store16, name: "i64.store16", imm: immMemArg, sig: "iI:", align: 1},
	{op: OpI64Store32, name: "i64.store32", imm: immMemArg, sig: "iI:", align: 2},
	{op: OpMemorySize, name: "memory.size", imm: immZero, sig: ":i"},
	{op: OpMemoryGrow, name: "memory.grow", imm: immZero, sig: "i:i"},
	{op: OpI32Const, name: "i32.const", imm: immI32, sig: ":i"},
	{op: OpI64Const, name: "i64.const", imm: immI64, sig: ":I"},
	{op: OpF32Const, name: "f32.const", imm: immF32, sig: ":f"},
	{op: OpF64Const, name: "f64.const", imm: immF64, sig: ":F"},
	{op: OpI32Eqz, name: "i32.eqz", sig: "i:i"},
	{op: OpI32Eq, name: "i32.eq", sig: "ii:i"},
	{op: OpI32Ne, name: "i32.ne", sig: "ii:i"},
	{op: OpI32LtS, name: "i32.lt_s", sig: "ii:i"},
	{op: OpI32LtU, name: "i32.lt_u", sig: "ii:i"},
	{op: OpI32GtS, name: "i32.gt_s", sig: "ii:i"},
	{op: OpI32GtU, name: "i32.gt_u", sig: "ii:i"},
	{op: OpI32LeS, name: "i32.le_s", sig: "ii:i"},
	{op: OpI32LeU, name: "i32.le_u", sig: "ii:i"},
	{op: OpI32GeS, name: "i32.ge_s", sig: "ii:i"},
	{op: OpI32GeU, name: "i32.ge_u", sig: "ii:i"},
	{op: OpI64Eqz, name: "i64.eqz", sig: "I:i"},
	{op: OpI64Eq, name: "i64.eq", sig: "II:i"},
	{op: OpI64Ne, name: "i64.ne", sig: "II:i"},
	{op: OpI64LtS, name: "i64.lt_s", sig: "II:i"},
	{op: OpI64LtU, name: "i64.lt_u", sig: "II:i"},
	{op: OpI64GtS, name: "i64.gt_s", sig: "II:i"},
	{op: OpI64GtU, name: "i64.gt_u", sig: "II:i"},
	{op: OpI64LeS, name: "i64.le_s", sig: "II:i"},
	{op: OpI64LeU, name: "i64.le_u", sig: "II:i"},
	{op: OpI64GeS, name: "i64.ge_s", sig: "II:i"},
	{op: OpI64GeU, name: "i64.ge_u", sig: "II:i"},
	{op: OpF32Eq, name: "f32.eq", sig: "ff:i"},
	{op: OpF32Ne, name: "f32.ne", sig: "ff:i"},
	{op: OpF32Lt, name: "f32.lt", sig: "ff:i"},
	{op: OpF32Gt, name: "f32.gt", sig: "ff:i"},
	{op: OpF32Le, name: "f32.le", sig: "ff:i"},
	{op: OpF32Ge, name: "f32.ge", sig: "ff:i"},
	{op: OpF64Eq, name: "f64.eq", sig: "FF:i"},
	{op: OpF64Ne, name: "f64.ne", sig: "FF:i"},
	{op: OpF64Lt, name: "f64.lt", sig: "FF:i"},
	{op: OpF64Gt, name: "f64.gt", sig: "FF:i"},
	{op: OpF64Le, name: "f64.le", sig: "FF:i"},
	{op: OpF64Ge, name: "f64.ge", sig: "FF:i"},
	{op: OpI32Clz, name: "i32.clz", sig: "i:i"},
	{op: OpI32Ctz, name: "i32.ctz", sig: "i:i"},
	{op: OpI32Popcnt, name: "i32.popcnt", sig: "i:i"},
	{op: OpI32Add, name: "i32.add", sig: "ii:i"},
	{op: OpI32Sub, name: "i32.sub", sig: "ii:i"},
	{op: OpI32Mul, name: "i32.mul", sig: "ii:i"},
	{op: OpI32DivS, name: "i32.div_s", sig: "ii:i"},
	{op: OpI32DivU, name: "i32.div_u", sig: "ii:i"},
	{op: OpI32RemS, name: "i32.rem_s", sig: "ii:i"},
	{op: OpI32RemU, name: "i32.rem_u", sig: "ii:i"},
	{op: OpI32And, name: "i32.and", sig: "ii:i"},
	{op: OpI32Or, name: "i32.or", sig: "ii:i"},
	{op: OpI32Xor, name: "i32.xor", sig: "ii:i"},
	{op: OpI32Shl, name: "i32.shl", sig: "ii:i"},
	{op: OpI32ShrS, name: "i32.shr_s", sig: "ii:i"},
	{op: OpI32ShrU, name: "i32.shr_u", sig: "ii:i"},
	{op: OpI32Rotl, name: "i32.rotl", sig: "ii:i"},
	{op: OpI32Rotr, name: "i32.rotr", sig: "ii:i"},
	{op: OpI64Clz, name: "i64.clz", sig: "I:I"},
	{op: OpI64Ctz, name: "i64.ctz", sig: "I:I"},
	{op: OpI64Popcnt, name: "i64.popcnt", sig: "I:I"},
	{op: OpI64Add, name: "i64.add", sig: "II:I"},
	{op: OpI64Sub, name: "i64.sub", sig: "II:I"},
	{op: OpI64Mul, name: "i64.mul", sig: "II:I"},
	{op: OpI64DivS, name: "i64.div_s", sig: "II:I"},
	{op: OpI64DivU, name: "i64.div_u", sig: "II:I"},
	{op: OpI64RemS, name: "i64.rem_s", sig: "II:I"},
	{op: OpI64RemU, name: "i64.rem_u", sig: "II:I"},
	{op: OpI64And, name: "i64.and", sig: "II:I"},
	{op: OpI64Or, name: "i64.or", sig: "II:I"},
	{op: OpI64Xor, name: "i64.xor", sig: "II:I"},
	{op: OpI64Shl, name: "i64.shl", sig: "II:I"},
	{op: OpI64ShrS, name: "i64.shr_s", sig: "II:I"},
	{op: OpI64ShrU, name: "i64.shr_u", sig: "II:I"},
	{op: OpI64Rotl, name: "i64.rotl", sig: "II:I"},
	{op: OpI64Rotr, name: "i64.rotr", sig: "II:I"},
	{op: OpF32Abs, name: "f32.abs", sig: "f:f"},
	{op: OpF32Neg, name: "f32.neg", sig: "f:f"},
	{op: OpF32Ceil, name: "f32.ceil", sig: "f:f"},
	{op: OpF32Floor, name: "f32.floor", sig: "f:f"},
	{op: OpF32Trunc, name: "f32.trunc", sig: "f:f"},
	{op: OpF32Nearest, name: "f32.nearest", sig: "f:f"},
	{op: OpF32Sqrt, name: "f32.sqrt", sig: "f:f"},
	{op: OpF32Add, name: "f32.add", sig: "ff:f"},
	{op: OpF32Sub, name: "f32.sub", sig: "ff:f"},
	{op: OpF32Mul, name: "f32.mul", sig: "ff:f"},
	{op: OpF32Div, name: "f32.div", sig: "ff:f"},
	{op: OpF32Min, name: "f32.min", sig: "ff:f"},
	{op: OpF32Max, name: "f32.max", sig: "ff:f"},
	{op: OpF32Copysign, name: "f32.copysign", sig: "ff:f"},
	{op: OpF64Abs, name: "f64.abs", sig: "F:F"},
	{op: OpF64Neg, name: "f64.neg", sig: "F:F"},
	{op: OpF64Ceil, name: "f64.ceil", sig: "F:F"},
	{op: OpF64Floor, name: "f64.floor", sig: "F:F"},
	{op: OpF64Trunc, name: "f64.trunc", sig: "F:F"},
	{op: OpF64Nearest, name: "f64.nearest", sig: "F:F"},
	{op: OpF64Sqrt, name: "f64.sqrt", sig: "F:F"},
	{op: OpF64Add, name: "f64.add", sig: "FF:F"},
	{op: OpF64Sub, name: "f64.sub", sig: "FF:F"},
	{op: OpF64Mul, name: "f64.mul", sig: "FF:F"},
	{op: OpF64Div, name: "f64.div", sig: "FF:F"},
	{op: OpF64Min, name: "f64.min", sig: "FF:F"},
	{op: OpF64Max, name: "f64.max", sig: "FF:F"},
	{op: OpF64Copysign, name: "f64.copysign", sig: "FF:F"},
	{op: OpI32WrapI64, name: "i32.wrap_i64", sig: "I:i"},
	{op: OpI32TruncF32S, name: "i32.trunc_f32_s", sig: "f:i"},
	{op: OpI32TruncF32U, name: "i32.trunc_f32_u", sig: "f:i"},
	{op: OpI32TruncF64S, name: "i32.trunc_f64_s", sig: "F:i"},
	{op: OpI32TruncF64U, name: "i32.trunc_f64_u", sig: "F:i"},
	{op: OpI64ExtendI32S, name: "i64.extend_i32_s", sig: "i:I"},
	{op: OpI64ExtendI32U, name: "i64.extend_i32_u", sig: "i:I"},
	{op: OpI64TruncF32S, name: "i64.trunc_f32_s", sig: "f:I"},
	{op: OpI64TruncF32U, name: "i64.trunc_f32_u", sig: "f:I"},
	{op: OpI64TruncF64S, name: "i64.trunc_f64_s", sig: "F:I"},
	{op: OpI64TruncF64U, name: "i64.trunc_f64_u", sig: "F:I"},
	{op: OpF32ConvertI32S, name: "f32.convert_i32_s", sig: "i:f"},
	{op: OpF32ConvertI32U, name: "f32.convert_i32_u", sig: "i:f"},
	{op: OpF32ConvertI64S, name: "f32.convert_i64_s", sig: "I:f"},
	{op: OpF32ConvertI64U, name: "f32.convert_i64_u", sig: "I:f"},
	{op: OpF32DemoteF64, name: "f32.demote_f64", sig: "F:f"},
	{op: OpF64ConvertI32S, name: "f64.convert_i32_s", sig: "i:F"},
	{op: OpF64ConvertI32U, name: "f64.convert_i32_u", sig: "i:F"},
	{op: OpF64ConvertI64S, name: "f64.convert_i64_s", sig: "I:F"},
	{op: OpF64ConvertI64U, name: "f64.convert_i64_u", sig: "I:F"},
	{op: OpF64PromoteF32, name: "f64.promote_f32", sig: "f:F"},
	{op: OpI32ReinterpretF32, name: "i32.reinterpret_f32", sig: "f:i"},
	{op: OpI64ReinterpretF64, name: "i64.reinterpret_f64", sig: "F:I"},
	{op: OpF32ReinterpretI32, name: "f32.reinterpret_i32", sig: "i:f"},
	{op: OpF64ReinterpretI64, name: "f64.reinterpret_i64", sig: "I:F"},
	{op: OpI32Extend8S, name: "i32.extend8_s", sig: "i:i"},
	{op: OpI32Extend16S, name: "i32.extend16_s", sig: "i:i"},
	{op: OpI64Extend8S, name: "i64.extend8_s", sig: "I:I"},
	{op: OpI64Extend16S, name: "i64.extend16_s", sig: "I:I"},
	{op: OpI64Extend32S, name: "i64.extend32_s", sig: "I:I"},
	{op: OpRefNull, name: "ref.null", imm: immRefNull},
	{op: OpRefIsNull, name: "ref.is_null"},
	{op: OpRefFunc, name: "ref.func", imm: immIndex},
	{op: OpI32TruncSatF32S, name: "i32.trunc_sat_f32_s", sig: "f:i"},
	{op: OpI32TruncSatF32U, name: "i32.trunc_sat_f32_u", sig: "f:i"},
	{op: OpI32TruncSatF64S, name: "i32.trunc_sat_f64_s", sig: "F:i"},
	{op: OpI32TruncSatF64U, name: "i32.trunc_sat_f64_u", sig: "F:i"},
	{op: OpI64TruncSatF32S, name: "i64.trunc_sat_f32_s", sig: "f:I"},
	{op: OpI64TruncSatF32U, name: "i64.trunc_sat_f32_u", sig: "f:I"},
	{op: OpI64TruncSatF64S, name: "i64.trunc_sat_f64_s", sig: "F:I"},
	{op: OpI64TruncSatF64U, name: "i64.trunc_sat_f64_u", sig: "F:I"},
	{op: OpMemoryInit, name: "memory.init", imm: immMemoryInit, sig: "iii:"},
	{op: OpDataDrop, name: "data.drop", imm: immIndex},
	{op: OpMemoryCopy, name: "memory.copy", imm: immMemoryCopy, sig: "iii:"},
	{op: OpMemoryFill, name: "memory.fill", imm: immZero, sig: "iii:"},
	{op: OpTableInit, name: "table.init", imm: immTableInit},
	{op: OpElemDrop, name: "elem.drop", imm: immIndex},
	{op: OpTableCopy, name: "table.copy", imm: immTableCopy},
	{op: OpTableGrow, name: "table.grow", imm: immIndex},
	{op: OpTableSize, name: "table.size", imm: immIndex},
	{op: OpTableFill, name: "table.fill", imm: immIndex},
	{op: OpV128Load, name: "v128.load", imm: immMemArg, sig: "i:v", align: 4},
	{op: OpV128Load8x8S, name: "v128.load8x8_s", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load8x8U, name: "v128.load8x8_u", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load16x4S, name: "v128.load16x4_s", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load16x4U, name: "v128.load16x4_u", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load32x2S, name: "v128.load32x2_s", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load32x2U, name: "v128.load32x2_u", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Load8Splat, name: "v128.load8_splat", imm: immMemArg, sig: "i:v"},
	{op: OpV128Load16Splat, name: "v128.load16_splat", imm: immMemArg, sig: "i:v", align: 1},
	{op: OpV128Load32Splat, name: "v128.load32_splat", imm: immMemArg, sig: "i:v", align: 2},
	{op: OpV128Load64Splat, name: "v128.load64_splat", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpV128Store, name: "v128.store", imm: immMemArg, sig: "iv:", align: 4},
	{op: OpV128Const, name: "v128.const", imm: immV128, sig: ":v"},
	{op: OpI8x16Shuffle, name: "i8x16.shuffle", imm: immV128, sig: "vv:v", lanes: 32},
	{op: OpI8x16Swizzle, name: "i8x16.swizzle", sig: "vv:v"},
	{op: OpI8x16Splat, name: "i8x16.splat", sig: "i:v"},
	{op: OpI16x8Splat, name: "i16x8.splat", sig: "i:v"},
	{op: OpI32x4Splat, name: "i32x4.splat", sig: "i:v"},
	{op: OpI64x2Splat, name: "i64x2.splat", sig: "I:v"},
	{op: OpF32x4Splat, name: "f32x4.splat", sig: "f:v"},
	{op: OpF64x2Splat, name: "f64x2.splat", sig: "F:v"},
	{op: OpI8x16ExtractLaneS, name: "i8x16.extract_lane_s", imm: immLane, sig: "v:i", lanes: 16},
	{op: OpI8x16ExtractLaneU, name: "i8x16.extract_lane_u", imm: immLane, sig: "v:i", lanes: 16},
	{op: OpI8x16ReplaceLane, name: "i8x16.replace_lane", imm: immLane, sig: "vi:v", lanes: 16},
	{op: OpI16x8ExtractLaneS, name: "i16x8.extract_lane_s", imm: immLane, sig: "v:i", lanes: 8},
	{op: OpI16x8ExtractLaneU, name: "i16x8.extract_lane_u", imm: immLane, sig: "v:i", lanes: 8},
	{op: OpI16x8ReplaceLane, name: "i16x8.replace_lane", imm: immLane, sig: "vi:v", lanes: 8},
	{op: OpI32x4ExtractLane, name: "i32x4.extract_lane", imm: immLane, sig: "v:i", lanes: 4},
	{op: OpI32x4ReplaceLane, name: "i32x4.replace_lane", imm: immLane, sig: "vi:v", lanes: 4},
	{op: OpI64x2ExtractLane, name: "i64x2.extract_lane", imm: immLane, sig: "v:I", lanes: 2},
	{op: OpI64x2ReplaceLane, name: "i64x2.replace_lane", imm: immLane, sig: "vI:v", lanes: 2},
	{op: OpF32x4ExtractLane, name: "f32x4.extract_lane", imm: immLane, sig: "v:f", lanes: 4},
	{op: OpF32x4ReplaceLane, name: "f32x4.replace_lane", imm: immLane, sig: "vf:v", lanes: 4},
	{op: OpF64x2ExtractLane, name: "f64x2.extract_lane", imm: immLane, sig: "v:F", lanes: 2},
	{op: OpF64x2ReplaceLane, name: "f64x2.replace_lane", imm: immLane, sig: "vF:v", lanes: 2},
	{op: OpI8x16Eq, name: "i8x16.eq", sig: "vv:v"},
	{op: OpI8x16Ne, name: "i8x16.ne", sig: "vv:v"},
	{op: OpI8x16LtS, name: "i8x16.lt_s", sig: "vv:v"},
	{op: OpI8x16LtU, name: "i8x16.lt_u", sig: "vv:v"},
	{op: OpI8x16GtS, name: "i8x16.gt_s", sig: "vv:v"},
	{op: OpI8x16GtU, name: "i8x16.gt_u", sig: "vv:v"},
	{op: OpI8x16LeS, name: "i8x16.le_s", sig: "vv:v"},
	{op: OpI8x16LeU, name: "i8x16.le_u", sig: "vv:v"},
	{op: OpI8x16GeS, name: "i8x16.ge_s", sig: "vv:v"},
	{op: OpI8x16GeU, name: "i8x16.ge_u", sig: "vv:v"},
	{op: OpI16x8Eq, name: "i16x8.eq", sig: "vv:v"},
	{op: OpI16x8Ne, name: "i16x8.ne", sig: "vv:v"},
	{op: OpI16x8LtS, name: "i16x8.lt_s", sig: "vv:v"},
	{op: OpI16x8LtU, name: "i16x8.lt_u", sig: "vv:v"},
	{op: OpI16x8GtS, name: "i16x8.gt_s", sig: "vv:v"},
	{op: OpI16x8GtU, name: "i16x8.gt_u", sig: "vv:v"},
	{op: OpI16x8LeS, name: "i16x8.le_s", sig: "vv:v"},
	{op: OpI16x8LeU, name: "i16x8.le_u", sig: "vv:v"},
	{op: OpI16x8GeS, name: "i16x8.ge_s", sig: "vv:v"},
	{op: OpI16x8GeU, name: "i16x8.ge_u", sig: "vv:v"},
	{op: OpI32x4Eq, name: "i32x4.eq", sig: "vv:v"},
	{op: OpI32x4Ne, name: "i32x4.ne", sig: "vv:v"},
	{op: OpI32x4LtS, name: "i32x4.lt_s", sig: "vv:v"},
	{op: OpI32x4LtU, name: "i32x4.lt_u", sig: "vv:v"},
	{op: OpI32x4GtS, name: "i32x4.gt_s", sig: "vv:v"},
	{op: OpI32x4GtU, name: "i32x4.gt_u", sig: "vv:v"},
	{op: OpI32x4LeS, name: "i32x4.le_s", sig: "vv:v"},
	{op: OpI32x4LeU, name: "i32x4.le_u", sig: "vv:v"},
	{op: OpI32x4GeS, name: "i32x4.ge_s", sig: "vv:v"},
	{op: OpI32x4GeU, name: "i32x4.ge_u", sig: "vv:v"},
	{op: OpF32x4Eq, name: "f32x4.eq", sig: "vv:v"},
	{op: OpF32x4Ne, name: "f32x4.ne", sig: "vv:v"},
	{op: OpF32x4Lt, name: "f32x4.lt", sig: "vv:v"},
	{op: OpF32x4Gt, name: "f32x4.gt", sig: "vv:v"},
	{op: OpF32x4Le, name: "f32x4.le", sig: "vv:v"},
	{op: OpF32x4Ge, name: "f32x4.ge", sig: "vv:v"},
	{op: OpF64x2Eq, name: "f64x2.eq", sig: "vv:v"},
	{op: OpF64x2Ne, name: "f64x2.ne", sig: "vv:v"},
	{op: OpF64x2Lt, name: "f64x2.lt", sig: "vv:v"},
	{op: OpF64x2Gt, name: "f64x2.gt", sig: "vv:v"},
	{op: OpF64x2Le, name: "f64x2.le", sig: "vv:v"},
	{op: OpF64x2Ge, name: "f64x2.ge", sig: "vv:v"},
	{op: OpV128Not, name: "v128.not", sig: "v:v"},
	{op: OpV128And, name: "v128.and", sig: "vv:v"},
	{op: OpV128Andnot, name: "v128.andnot", sig: "vv:v"},
	{op: OpV128Or, name: "v128.or", sig: "vv:v"},
	{op: OpV128Xor, name: "v128.xor", sig: "vv:v"},
	{op: OpV128Bitselect, name: "v128.bitselect", sig: "vvv:v"},
	{op: OpV128AnyTrue, name: "v128.any_true", sig: "v:i"},
	{op: OpV128Load8Lane, name: "v128.load8_lane", imm: immMemArgLane, sig: "iv:v", lanes: 16},
	{op: OpV128Load16Lane, name: "v128.load16_lane", imm: immMemArgLane, sig: "iv:v", align: 1, lanes: 8},
	{op: OpV128Load32Lane, name: "v128.load32_lane", imm: immMemArgLane, sig: "iv:v", align: 2, lanes: 4},
	{op: OpV128Load64Lane, name: "v128.load64_lane", imm: immMemArgLane, sig: "iv:v", align: 3, lanes: 2},
	{op: OpV128Store8Lane, name: "v128.store8_lane", imm: immMemArgLane, sig: "iv:", lanes: 16},
	{op: OpV128Store16Lane, name: "v128.store16_lane", imm: immMemArgLane, sig: "iv:", align: 1, lanes: 8},
	{op: OpV128Store32Lane, name: "v128.store32_lane", imm: immMemArgLane, sig: "iv:", align: 2, lanes: 4},
	{op: OpV128Store64Lane, name: "v128.store64_lane", imm: immMemArgLane, sig: "iv:", align: 3, lanes: 2},
	{op: OpV128Load32Zero, name: "v128.load32_zero", imm: immMemArg, sig: "i:v", align: 2},
	{op: OpV128Load64Zero, name: "v128.load64_zero", imm: immMemArg, sig: "i:v", align: 3},
	{op: OpF32x4DemoteF64x2Zero, name: "f32x4.demote_f64x2_zero", sig: "v:v"},
	{op: OpF64x2PromoteLowF32x4, name: "f64x2.promote_low_f32x4", sig: "v:v"},
	{op: OpI8x16Abs, name: "i8x16.abs", sig: "v:v"},
	{op: OpI8x16Neg, name: "i8x16.neg", sig: "v:v"},
	{op: OpI8x16Popcnt, name: "i8x16.popcnt", sig: "v:v"},
	{op: OpI8x16AllTrue, name: "i8x16.all_true", sig: "v:i"},
	{op: OpI8x16Bitmask, name: "i8x16.bitmask", sig: "v:i"},
	{op: OpI8x16NarrowI16x8S, name: "i8x16.narrow_i16x8_s", sig: "vv:v"},
	{op: OpI8x16NarrowI16x8U, name: "i8x16.narrow_i16x8_u", sig: "vv:v"},
	{op: OpF32x4Ceil, name: "f32x4.ceil", sig: "v:v"},
	{op: OpF32x4Floor, name: "f32x4.floor", sig: "v:v"},
	{op: OpF32x4Trunc, name: "f32x4.trunc", sig: "v:v"},
	{op: OpF32x4Nearest, name: "f32x4.nearest", sig: "v:v"},
	{op: OpI8x16Shl, name: "i8x16.shl", sig: "vi:v"},
	{op: OpI8x16ShrS, name: "i8x16.shr_s", sig: "vi:v"},
	{op: OpI8x16ShrU, name: "i8x16.shr_u", sig: "vi:v"},
	{op: OpI8x16Add, name: "i8x16.add", sig: "vv:v"},
	{op: OpI8x16AddSatS, name: "i8x16.add_sat_s", sig: "vv:v"},
	{op: OpI8x16AddSatU, name: "i8x16.add_sat_u", sig: "vv:v"},
	{op: OpI8x16Sub, name: "i8x16.sub", sig: "vv:v"},
	{op: OpI8x16SubSatS, name: "i8x16.sub_sat_s", sig: "vv:v"},
	{op: OpI8x16SubSatU, name: "i8x16.sub_sat_u", sig: "vv:v"},
	{op: OpF64x2Ceil, name: "f64x2.ceil", sig: "v:v"},
	{op: OpF64x2Floor, name: "f64x2.floor", sig: "v:v"},
	{op: OpI8x16MinS, name: "i8x16.min_s", sig: "vv:v"},
	{op: OpI8x16MinU, name: "i8x16.min_u", sig: "vv:v"},
	{op: OpI8x16MaxS, name: "i8x16.max_s", sig: "vv:v"},
	{op: OpI8x16MaxU, name: "i8x16.max_u", sig: "vv:v"},
	{op: OpF64x2Trunc, name: "f64x2.trunc", sig: "v:v"},
	{op: OpI8x16AvgrU, name: "i8x16.avgr_u", sig: "vv:v"},
	{op: OpI16x8ExtaddPairwiseI8x16S, name: "i16x8.extadd_pairwise_i8x16_s", sig: "v:v"},
	{op: OpI16x8ExtaddPairwiseI8x16U, name: "i16x8.extadd_pairwise_i8x16_u", sig: "v:v"},
	{op: OpI32x4ExtaddPairwiseI16x8S, name: "i32x4.extadd_pairwise_i16x8_s", sig: "v:v"},
	{op: OpI32x4ExtaddPairwiseI16x8U, name: "i32x4.extadd_pairwise_i16x8_u", sig: "v:v"},
	{op: OpI16x8Abs, name: "i16x8.abs", sig: "v:v"},
	{op: OpI16x8Neg, name: "i16x8.neg", sig: "v:v"},
	{op: OpI16x8Q15mulrSatS, name: "i16x8.q15mulr_sat_s", sig: "vv:v"},
	{op: OpI16x8AllTrue, name: "i16x8.all_true", sig: "v:i"},
	{op: OpI16x8Bitmask, name: "i16x8.bitmask", sig: "v:i"},
	{op: OpI16x8NarrowI32x4S, name: "i16x8.narrow_i32x4_s", sig: "vv:v"},
	{op: OpI16x8NarrowI32x4U, name: "i16x8.narrow_i32x4_u", sig: "vv:v"},
	{op: OpI16x8ExtendLowI8x16S, name: "i16x8.extend_low_i8x16_s", sig: "v:v"},
	{op: OpI16x8ExtendHighI8x16S, name: "i16x8.extend_high_i8x16_s", sig: "v:v"},
	{op: OpI16x8ExtendLowI8x16U, name: "i16x8.extend_low_i8x16_u", sig: "v:v"},
	{op: OpI16x8ExtendHighI8x16U, name: "i16x8.extend_high_i8x16_u", sig: "v:v"},
	{op: OpI16x8Shl, name: "i16x8.shl", sig: "vi:v"},
	{op: OpI16x8ShrS, name: "i16x8.shr_s", sig: "vi:v"},
	{op: OpI16x8ShrU, name: "i16x8.shr_u", sig: "vi:v"},
	{op: OpI16x8Add, name: "i16x8.add", sig: "vv:v"},
	{op: OpI16x8AddSatS, name: "i16x8.add_sat_s", sig: "vv:v"},
	{op: OpI16x8AddSatU, name: "i16x8.add_sat_u", sig: "vv:v"},
	{op: OpI16x8Sub, name: "i16x8.sub", sig: "vv:v"},
	{op: OpI16x8SubSatS, name: "i16x8.sub_sat_s", sig: "vv:v"},
	{op: OpI16x8SubSatU, name: "i16x8.sub_sat_u", sig: "vv:v"},
	{op: OpF64x2Nearest, name: "f64x2.nearest", sig: "v:v"},
	{op: OpI16x8Mul, name: "i16x8.mul", sig: "vv:v"},
	{op: OpI16x8MinS, name: "i16x8.min_s", sig: "vv:v"},
	{op: OpI16x8MinU, name: "i16x8.min_u", sig: "vv:v"},
	{op: OpI16x8MaxS, name: "i16x8.max_s", sig: "vv:v"},
	{op: OpI16x8MaxU, name: "i16x8.max_u", sig: "vv:v"},
	{op: OpI16x8AvgrU, name: "i16x8.avgr_u", sig: "vv:v"},
	{op: OpI16x8ExtmulLowI8x16S, name: "i16x8.extmul_low_i8x16_s", sig: "vv:v"},
	{op: OpI16x8ExtmulHighI8x16S, name: "i16x8.extmul_high_i8x16_s", sig: "vv:v"},
	{op: OpI16x8ExtmulLowI8x16U, name: "i16x8.extmul_low_i8x16_u", sig: "vv:v"},
	{op: OpI16x8ExtmulHighI8x16U, name: "i16x8.extmul_high_i8x16_u", sig: "vv:v"},
	{op: OpI32x4Abs, name: "i32x4.abs", sig: "v:v"},
	{op: OpI32x4Neg, name: "i32x4.neg", sig: "v:v"},
	{op: OpI32x4AllTrue, name: "i32x4.all_true", sig: "v:i"},
	{op: OpI32x4Bitmask, name: "i32x4.bitmask", sig: "v:i"},
	{op: OpI32x4ExtendLowI16x8S, name: "i32x4.extend_low_i16x8_s", sig: "v:v"},
	{op: OpI32x4ExtendHighI16x8S, name: "i32x4.extend_high_i16x8_s", sig: "v:v"},
	{op: OpI32x4ExtendLowI16x8U, name: "i32x4.extend_low_i16x8_u", sig: "v:v"},
	{op: OpI32x4ExtendHighI16x8U, name: "i32x4.extend_high_i16x8_u", sig: "v:v"},
	{op: OpI32x4Shl, name: "i32x4.shl", sig: "vi:v"},
	{op: OpI32x4ShrS, name: "i32x4.shr_s", sig: "vi:v"},
	{op: OpI32x4ShrU, name: "i32x4.shr_u", sig: "vi:v"},
	{op: OpI32x4Add, name: "i32x4.add", sig: "vv:v"},
	{op: OpI32x4Sub, name: "i32x4.sub", sig: "vv:v"},
	{op: OpI32x4Mul, name: "i32x4.mul", sig: "vv:v"},
	{op: OpI32x4MinS, name: "i32x4.min_s", sig: "vv:v"},
	{op: OpI32x4MinU, name: "i32x4.min_u", sig: "vv:v"},
	{op: OpI32x4MaxS, name: "i32x4.max_s", sig: "vv:v"},
	{op: OpI32x4MaxU, name: "i32x4.max_u", sig: "vv:v"},
	{op: OpI32x4DotI16x8S, name: "i32x4.dot_i16x8_s", sig: "vv:v"},
	{op: OpI32x4ExtmulLowI16x8S, name: "i32x4.extmul_low_i16x8_s", sig: "vv:v"},
	{op: OpI32x4ExtmulHighI16x8S, name: "i32x4.extmul_high_i16x8_s", sig: "vv:v"},
	{op: OpI32x4ExtmulLowI16x8U, name: "i32x4.extmul_low_i16x8_u", sig: "vv:v"},
	{op: OpI32x4ExtmulHighI16x8U, name: "i32x4.extmul_high_i16x8_u", sig: "vv:v"},
	{op: OpI64x2Abs, name: "i64x2.abs", sig: "v:v"},
	{op: OpI64x2Neg, name: "i64x2.neg", sig: "v:v"},
	{op: OpI64x2AllTrue, name: "i64x2.all_true", sig: "v:i"},
	{op: OpI64x2Bitmask, name: "i64x2.bitmask", sig: "v:i"},
	{op: OpI64x2ExtendLowI32x4S, name: "i64x2.extend_low_i32x4_s", sig: "v:v"},
	{op: OpI64x2ExtendHighI32x4S, name: "i64x2.extend_high_i32x4_s", sig: "v:v"},
	{op: OpI64x2ExtendLowI32x4U, name: "i64x2.extend_low_i32x4_u", sig: "v:v"},
	{op: OpI64x2ExtendHighI32x4U, name: "i64x2.extend_high_i32x4_u", sig: "v:v"},
	{op: OpI64x2Shl, name: "i64x2.shl", sig: "vi:v"},
	{op: OpI64x2ShrS, name: "i64x2.shr_s", sig: "vi:v"},
	{op: OpI64x2ShrU, name: "i64x2.shr_u", sig: "vi:v"},
	{op: OpI64x2Add, name: "i64x2.add", sig: "vv:v"},
	{op: OpI64x2Sub, name: "i64x2.sub", sig: "vv:v"},
	{op: OpI64x2Mul, name: "i64x2.mul", sig: "vv:v"},
	{op: OpI64x2Eq, name: "i64x2.eq", sig: "vv:v"},
	{op: OpI64x2Ne, name: "i64x2.ne", sig: "vv:v"},
	{op: OpI64x2LtS, name: "i64x2.lt_s", sig: "vv:v"},
	{op: OpI64x2GtS, name: "i64x2.gt_s", sig: "vv:v"},
	{op: OpI64x2LeS, name: "i64x2.le_s", sig: "vv:v"},
	{op: OpI64x2GeS, name: "i64x2.ge_s", sig: "vv:v"},
	{op: OpI64x2ExtmulLowI32x4S, name: "i64x2.extmul_low_i32x4_s", sig: "vv:v"},
	{op: OpI64x2ExtmulHighI32x4S, name: "i64x2.extmul_high_i32x4_s", sig: "vv:v"},
	{op: OpI64x2ExtmulLowI32x4U, name: "i64x2.extmul_low_i32x4_u", sig: "vv:v"},
	{op: OpI64x2ExtmulHighI32x4U, name: "i64x2.extmul_high_i32x4_u", sig: "vv:v"},
	{op: OpF32x4Abs, name: "f32x4.abs", sig: "v:v"},
	{op: OpF32x4Neg, name: "f32x4.neg", sig: "v:v"},
	{op: OpF32x4Sqrt, name: "f32x4.sqrt", sig: "v:v"},
	{op: OpF32x4Add, name: "f32x4.add", sig: "vv:v"},
	{op: OpF32x4Sub, name: "f32x4.sub", sig: "vv:v"},
	{op: OpF32x4Mul, name: "f32x4.mul", sig: "vv:v"},
	{op: OpF32x4Div, name: "f32x4.div", sig: "vv:v"},
	{op: OpF32x4Min, name: "f32x4.min", sig: "vv:v"},
	{op: OpF32x4Max, name: "f32x4.max", sig: "vv:v"},
	{op: OpF32x4Pmin, name: "f32x4.pmin", sig: "vv:v"},
	{op: OpF32x4Pmax, name: "f32x4.pmax", sig: "vv:v"},
	{op: OpF64x2Abs, name: "f64x2.abs", sig: "v:v"},
	{op: OpF64x2Neg, name: "f64x2.neg", sig: "v:v"},
	{op: OpF64x2Sqrt, name: "f64x2.sqrt", sig: "v:v"},
	{op: OpF64x2Add, name: "f64x2.add", sig: "vv:v"},
	{op: OpF64x2Sub, name: "f64x2.sub", sig: "vv:v"},
	{op: OpF64x2Mul, name: "f64x2.mul", sig: "vv:v"},
	{op: OpF64x2Div, name: "f64x2.div", sig: "vv:v"},
	{op: OpF64x2Min, name: "f64x2.min", sig: "vv:v"},
	{op: OpF64x2Max, name: "f64x2.max", sig: "vv:v"},
	{op: OpF64x2Pmin, name: "f64x2.pmin", sig: "vv:v"},
	{op: OpF64x2Pmax, name: "f64x2.pmax", sig: "vv:v"},
	{op: OpI32x4TruncSatF32x4S, name: "i32x4.trunc_sat_f32x4_s", sig: "v:v"},
	{op: OpI32x4TruncSatF32x4U, name: "i32x4.trunc_sat_f32x4_u", sig: "v:v"},
	{op: OpF32x4ConvertI32x4S, name: "f32x4.convert_i32x4_s", sig: "v:v"},
	{op: OpF32x4ConvertI32x4U, name: "f32x4.convert_i32x4_u", sig: "v:v"},
	{op: OpI32x4TruncSatF64x2SZero, name: "i32x4.trunc_sat_f64x2_s_zero", sig: "v:v"},
	{op: OpI32x4TruncSatF64x2UZero, name: "i32x4.trunc_sat_f64x2_u_zero", sig: "v:v"},
	{op: OpF64x2ConvertLowI32x4S, name: "f64x2.convert_low_i32x4_s", sig: "v:v"},
	{op: OpF64x2ConvertLowI32x4U, name: "f64x2.convert_low_i32x4_u", sig: "v:v"},
}
