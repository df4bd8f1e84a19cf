/**
 * A matrix M = L·Rᵀ kept in factored form (TransformerLens's FactoredMatrix idea): `left` is
 * [rows, rank], `right` is [cols, rank], both row-major, so M[i, j] = left_i · right_j and the
 * rows × cols product is never formed. The transpose just swaps the factors.
 */
export class FactoredMatrix {
  constructor(
    readonly left: Float32Array,
    readonly right: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly rank: number,
  ) {
    if (left.length !== rows * rank) throw new Error(`left factor has ${left.length} values, expected ${rows}×${rank}`);
    if (right.length !== cols * rank) throw new Error(`right factor has ${right.length} values, expected ${cols}×${rank}`);
  }

  get T(): FactoredMatrix {
    return new FactoredMatrix(this.right, this.left, this.cols, this.rows, this.rank);
  }

  /** Row i (length cols), in float64 accumulation: O(cols·rank). */
  row(i: number): Float64Array {
    const out = new Float64Array(this.cols);
    const r = this.rank;
    const a = this.left.subarray(i * r, (i + 1) * r);
    for (let j = 0; j < this.cols; j++) out[j] = dot(a, 0, this.right, j * r, r);
    return out;
  }

  /** Column j (length rows). */
  col(j: number): Float64Array {
    return this.T.row(j);
  }
}

export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k] * b[bo + k];
  return s;
}
