/**
 * Eigenvalues of a small real nonsymmetric matrix (rank × rank, e.g. a head's d_head × d_head
 * W_O W_U W_E W_V): reduction to upper Hessenberg form by stabilized elimination, then the shifted
 * QR algorithm (EISPACK's elmhes + hqr, as in Numerical Recipes §11.5–11.6), in float64.
 * Written 1-based internally so the algorithm reads as published.
 */
export interface Complex {
  re: number;
  im: number;
}

const MAX_ITERATIONS = 60;

/** Eigenvalues of the n × n row-major matrix m (unordered; complex ones in conjugate pairs). */
export function complexEigenvalues(m: ArrayLike<number>, n: number): Complex[] {
  if (m.length !== n * n) throw new Error(`eigenvalues: expected ${n}×${n} values, got ${m.length}`);
  if (n === 0) return [];
  const w = n + 1;
  const a = new Float64Array(w * w);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[(i + 1) * w + (j + 1)] = m[i * n + j];
  for (const x of a) if (!Number.isFinite(x)) throw new Error("eigenvalues: the matrix has NaN or infinite entries");
  toHessenberg(a, n);
  return hqr(a, n);
}

function toHessenberg(a: Float64Array, n: number): void {
  const w = n + 1;
  const A = (i: number, j: number) => i * w + j;
  for (let m = 2; m < n; m++) {
    let x = 0,
      i = m;
    for (let j = m; j <= n; j++) {
      if (Math.abs(a[A(j, m - 1)]) > Math.abs(x)) {
        x = a[A(j, m - 1)];
        i = j;
      }
    }
    if (i !== m) {
      for (let j = m - 1; j <= n; j++) [a[A(i, j)], a[A(m, j)]] = [a[A(m, j)], a[A(i, j)]];
      for (let j = 1; j <= n; j++) [a[A(j, i)], a[A(j, m)]] = [a[A(j, m)], a[A(j, i)]];
    }
    if (x !== 0) {
      for (i = m + 1; i <= n; i++) {
        let y = a[A(i, m - 1)];
        if (y !== 0) {
          y /= x;
          a[A(i, m - 1)] = y;
          for (let j = m; j <= n; j++) a[A(i, j)] -= y * a[A(m, j)];
          for (let j = 1; j <= n; j++) a[A(j, m)] += y * a[A(j, i)];
        }
      }
    }
  }
  // elmhes leaves its multipliers below the subdiagonal; the Hessenberg form has zeros there.
  for (let i = 3; i <= n; i++) for (let j = 1; j < i - 1; j++) a[A(i, j)] = 0;
}

function hqr(a: Float64Array, n: number): Complex[] {
  const w = n + 1;
  const A = (i: number, j: number) => i * w + j;
  const wr = new Float64Array(n + 1),
    wi = new Float64Array(n + 1);
  const sign = (x: number, y: number) => (y >= 0 ? Math.abs(x) : -Math.abs(x));
  let anorm = 0;
  for (let i = 1; i <= n; i++) for (let j = Math.max(i - 1, 1); j <= n; j++) anorm += Math.abs(a[A(i, j)]);
  let nn = n,
    t = 0;
  let p = 0,
    q = 0,
    r = 0,
    s = 0,
    x = 0,
    y = 0,
    z = 0,
    ww = 0;
  while (nn >= 1) {
    let its = 0,
      l: number;
    do {
      for (l = nn; l >= 2; l--) {
        s = Math.abs(a[A(l - 1, l - 1)]) + Math.abs(a[A(l, l)]);
        if (s === 0) s = anorm;
        if (Math.abs(a[A(l, l - 1)]) + s === s) {
          a[A(l, l - 1)] = 0;
          break;
        }
      }
      x = a[A(nn, nn)];
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = a[A(nn - 1, nn - 1)];
        ww = a[A(nn, nn - 1)] * a[A(nn - 1, nn)];
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + ww;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z) wr[nn] = x - ww / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === MAX_ITERATIONS) throw new Error("eigenvalues: the QR iteration did not converge");
          if (its === 10 || its === 20) {
            // Exceptional shift.
            t += x;
            for (let i = 1; i <= nn; i++) a[A(i, i)] -= x;
            s = Math.abs(a[A(nn, nn - 1)]) + Math.abs(a[A(nn - 1, nn - 2)]);
            y = x = 0.75 * s;
            ww = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[A(m, m)];
            r = x - z;
            s = y - z;
            p = (r * s - ww) / a[A(m + 1, m)] + a[A(m, m + 1)];
            q = a[A(m + 1, m + 1)] - z - r - s;
            r = a[A(m + 2, m + 1)];
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[A(m, m - 1)]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[A(m - 1, m - 1)]) + Math.abs(z) + Math.abs(a[A(m + 1, m + 1)]));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[A(i, i - 2)] = 0;
            if (i !== m + 2) a[A(i, i - 3)] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[A(k, k - 1)];
              q = a[A(k + 1, k - 1)];
              r = 0;
              if (k !== nn - 1) r = a[A(k + 2, k - 1)];
              if ((x = Math.abs(p) + Math.abs(q) + Math.abs(r)) !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            if ((s = sign(Math.sqrt(p * p + q * q + r * r), p)) !== 0) {
              if (k === m) {
                if (l !== m) a[A(k, k - 1)] = -a[A(k, k - 1)];
              } else a[A(k, k - 1)] = -s * x;
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[A(k, j)] + q * a[A(k + 1, j)];
                if (k !== nn - 1) {
                  p += r * a[A(k + 2, j)];
                  a[A(k + 2, j)] -= p * z;
                }
                a[A(k + 1, j)] -= p * y;
                a[A(k, j)] -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * a[A(i, k)] + y * a[A(i, k + 1)];
                if (k !== nn - 1) {
                  p += z * a[A(i, k + 2)];
                  a[A(i, k + 2)] -= p * r;
                }
                a[A(i, k + 1)] -= p * q;
                a[A(i, k)] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return Array.from({ length: n }, (_, i) => ({ re: wr[i + 1], im: wi[i + 1] }));
}

/**
 * Eigen-decomposition of a small symmetric matrix (float64): Householder reduction to tridiagonal
 * form, then the QL algorithm with implicit shifts (tred2 + tqli, Numerical Recipes §11.2–11.3;
 * ≈ 5n³ flops, 10× faster than cyclic Jacobi at n = 64). `values` descending, `vectors` row-major
 * with eigenvector c in column c. Used to put a factored matrix in balanced SVD coordinates; its
 * accuracy only affects how tight the bounds built on them are, because those bounds measure the
 * error of the transform they actually use.
 */
export function symmetricEigen(m: ArrayLike<number>, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(m),
    d = new Float64Array(n),
    e = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    // tred2
    const l = i - 1;
    let h = 0,
      scale = 0;
    if (l > 0) {
      for (let k = 0; k < i; k++) scale += Math.abs(a[i * n + k]);
      if (scale === 0) e[i] = a[i * n + l];
      else {
        for (let k = 0; k < i; k++) {
          a[i * n + k] /= scale;
          h += a[i * n + k] * a[i * n + k];
        }
        let f = a[i * n + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j < i; j++) {
          a[j * n + i] = a[i * n + j] / h;
          g = 0;
          for (let k = 0; k <= j; k++) g += a[j * n + k] * a[i * n + k];
          for (let k = j + 1; k < i; k++) g += a[k * n + j] * a[i * n + k];
          e[j] = g / h;
          f += e[j] * a[i * n + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j < i; j++) {
          f = a[i * n + j];
          e[j] = g = e[j] - hh * f;
          for (let k = 0; k <= j; k++) a[j * n + k] -= f * e[k] + g * a[i * n + k];
        }
      }
    } else e[i] = a[i * n + l];
    d[i] = h;
  }
  d[0] = 0;
  e[0] = 0;
  for (let i = 0; i < n; i++) {
    if (d[i] !== 0) {
      for (let j = 0; j < i; j++) {
        let g = 0;
        for (let k = 0; k < i; k++) g += a[i * n + k] * a[k * n + j];
        for (let k = 0; k < i; k++) a[k * n + j] -= g * a[k * n + i];
      }
    }
    d[i] = a[i * n + i];
    a[i * n + i] = 1;
    for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j] = 0;
  }
  for (let i = 1; i < n; i++) e[i - 1] = e[i]; // tqli
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter === 60) throw new Error("symmetric eigenvalues: no convergence");
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        p = 0,
        i = m - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        e[i + 1] = r = Math.hypot(f, g);
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        d[i + 1] = g + (p = s * r);
        g = c * r - b;
        for (let k = 0; k < n; k++) {
          f = a[k * n + (i + 1)];
          a[k * n + (i + 1)] = s * a[k * n + i] + c * f;
          a[k * n + i] = c * a[k * n + i] - s * f;
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, c) => {
    for (let k = 0; k < n; k++) vectors[k * n + c] = a[k * n + src];
  });
  return { values: order.map((i) => d[i]), vectors };
}
