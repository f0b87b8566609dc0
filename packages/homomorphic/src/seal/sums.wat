;; Kernels of the aggregator's coefficient sums (src/seal/simd-sums.ts), WebAssembly 128-bit SIMD.
;; Assembled by scripts/assemble-wasm.mjs into sums-wasm.ts; a test re-assembles this file and
;; compares the bytes.
;;
;; Every function takes byte offsets into the exported memory and a count `n` of lanes that is a
;; multiple of 16 (a plane holds ciphertexts * 2 * N coefficients, N >= 1024).
(module
  (memory (export "memory") 1)

  ;; acc[i] (u64) += src[i] (u32): the low-word plane and 32-bit high planes.
  (func (export "addU32") (param $src i32) (param $acc i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store (local.get $acc)
          (i64x2.add (v128.load (local.get $acc)) (i64x2.extend_low_i32x4_u (local.get $v))))
        (v128.store offset=16 (local.get $acc)
          (i64x2.add (v128.load offset=16 (local.get $acc))
            (i64x2.extend_high_i32x4_u (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (br $next))))

  ;; acc[i] (u32) += src[i] (u16): at most 65,537 additions before the caller flushes.
  (func (export "addU16") (param $src i32) (param $acc i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store (local.get $acc)
          (i32x4.add (v128.load (local.get $acc)) (i32x4.extend_low_i16x8_u (local.get $v))))
        (v128.store offset=16 (local.get $acc)
          (i32x4.add (v128.load offset=16 (local.get $acc))
            (i32x4.extend_high_i16x8_u (local.get $v))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (br $next))))

  ;; acc[i] (u32) += src[i] (u8).
  (func (export "addU8") (param $src i32) (param $acc i32) (param $n i32)
    (local $end i32) (local $v v128) (local $w v128)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (v128.load (local.get $src)))
        (local.set $w (i16x8.extend_low_i8x16_u (local.get $v)))
        (v128.store (local.get $acc)
          (i32x4.add (v128.load (local.get $acc)) (i32x4.extend_low_i16x8_u (local.get $w))))
        (v128.store offset=16 (local.get $acc)
          (i32x4.add (v128.load offset=16 (local.get $acc))
            (i32x4.extend_high_i16x8_u (local.get $w))))
        (local.set $w (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store offset=32 (local.get $acc)
          (i32x4.add (v128.load offset=32 (local.get $acc))
            (i32x4.extend_low_i16x8_u (local.get $w))))
        (v128.store offset=48 (local.get $acc)
          (i32x4.add (v128.load offset=48 (local.get $acc))
            (i32x4.extend_high_i16x8_u (local.get $w))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (br $next))))

  ;; The first i in [from, n) with src[i] >= t (u8 lanes), or -1.
  (func (export "firstAtLeastU8") (param $src i32) (param $from i32) (param $n i32) (param $t i32)
    (result i32)
    (local $i i32) (local $tv v128)
    (local.set $tv (i8x16.splat (local.get $t)))
    ;; Scalar up to a multiple of 16, then 16 lanes at a time.
    (local.set $i (local.get $from))
    (block $aligned
      (loop $head
        (br_if $aligned (i32.eqz (i32.and (local.get $i) (i32.const 15))))
        (br_if $aligned (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ge_u (i32.load8_u (i32.add (local.get $src) (local.get $i))) (local.get $t))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $head)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (v128.any_true
              (i8x16.ge_u (v128.load (i32.add (local.get $src) (local.get $i))) (local.get $tv)))
          (then
            (loop $lane
              (if (i32.ge_u (i32.load8_u (i32.add (local.get $src) (local.get $i))) (local.get $t))
                (then (return (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $lane))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (i32.const -1))

  ;; The first i in [from, n) with src[i] >= t (u16 lanes), or -1.
  (func (export "firstAtLeastU16") (param $src i32) (param $from i32) (param $n i32) (param $t i32)
    (result i32)
    (local $i i32) (local $tv v128)
    (local.set $tv (i16x8.splat (local.get $t)))
    (local.set $i (local.get $from))
    (block $aligned
      (loop $head
        (br_if $aligned (i32.eqz (i32.and (local.get $i) (i32.const 7))))
        (br_if $aligned (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ge_u (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1))))
              (local.get $t))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $head)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (v128.any_true
              (i16x8.ge_u
                (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1))))
                (local.get $tv)))
          (then
            (loop $lane
              (if (i32.ge_u
                    (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1))))
                    (local.get $t))
                (then (return (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $lane))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
    (i32.const -1))

  ;; The first i in [from, n) with src[i] >= t (u32 lanes, t unsigned), or -1.
  (func (export "firstAtLeastU32") (param $src i32) (param $from i32) (param $n i32) (param $t i32)
    (result i32)
    (local $i i32) (local $tv v128)
    (local.set $tv (i32x4.splat (local.get $t)))
    (local.set $i (local.get $from))
    (block $aligned
      (loop $head
        (br_if $aligned (i32.eqz (i32.and (local.get $i) (i32.const 3))))
        (br_if $aligned (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ge_u (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
              (local.get $t))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $head)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (v128.any_true
              (i32x4.ge_u
                (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
                (local.get $tv)))
          (then
            (loop $lane
              (if (i32.ge_u
                    (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
                    (local.get $t))
                (then (return (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $lane))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (i32.const -1))
)
