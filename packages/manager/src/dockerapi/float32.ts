// Float32s as Docker writes them. Shoal's proto keeps a few Docker fields as `float` (32 bits),
// which read back as the nearest double (0.4 -> 0.4000000059604645). Docker's Go encoder writes a
// float32 as the shortest decimal that reads back as the same float32, choosing the nearest one
// when several are as short and, on an exact tie, the one with an even last digit.

/** The exact value of a finite float32 `f` > 0 as mantissa × 2^exponent. */
function float32Parts(f: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const bits = view.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  return biased === 0
    ? { mantissa: BigInt(fraction), exponent: -149 }
    : { mantissa: BigInt(fraction | 0x800000), exponent: biased - 150 };
}

/** Whether float32 `f` > 0 lies exactly halfway between n × 10^q and (n + 1) × 10^q. */
function isHalfway(f: number, n: number, q: number): boolean {
  // 2f = (2n + 1) × 10^q, both sides made whole numbers.
  const { mantissa, exponent } = float32Parts(f);
  let left = mantissa;
  let right = BigInt(2 * n + 1);
  const twos = exponent + 1 - q;
  if (twos >= 0) left <<= BigInt(twos);
  else right <<= BigInt(-twos);
  if (q >= 0) right *= 5n ** BigInt(q);
  else left *= 5n ** BigInt(-q);
  return left === right;
}

/**
 * `value` as a float32 (a proto `float`, e.g. UpdateConfig.MaxFailureRatio) written as Docker
 * writes it: the shortest decimal that reads back as the same float32 (0.4, not
 * 0.4000000059604645). Infinities and NaN are returned unchanged.
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f === 0 ? 0 : f;
  const sign = f < 0 ? -1 : 1;
  const abs = Math.abs(f);
  const fits = (n: number, q: number): boolean => Math.fround(Number(`${n}e${q}`)) === abs;
  const result = (n: number, q: number): number => sign * Number(`${n}e${q}`);
  // At each precision p, the p-digit decimal nearest to f is tried, then the p-digit one on the
  // other side of f: if any p-digit decimal reads back as f, one of these two does. Nine
  // significant digits always do.
  for (let p = 1; p < 9; p++) {
    const [digits, exp] = abs.toExponential(p - 1).split("e") as [string, string];
    const n = Number(digits.replace(".", ""));
    const q = Number(exp) - (p - 1);
    const smallest = 10 ** (p - 1);
    if (fits(n, q)) {
      // toExponential breaks a tie upwards; Go breaks it towards the even digit.
      const tie = n % 2 === 1 && n > smallest && isHalfway(abs, n - 1, q) && fits(n - 1, q);
      return tie ? result(n - 1, q) : result(n, q);
    }
    if (Number(`${n}e${q}`) < abs) {
      if (fits(n + 1, q)) return result(n + 1, q);
    } else if (n > smallest) {
      if (fits(n - 1, q)) return result(n - 1, q);
    } else if (fits(10 * smallest - 1, q - 1)) {
      return result(10 * smallest - 1, q - 1);
    }
  }
  return sign * Number(abs.toPrecision(9));
}
