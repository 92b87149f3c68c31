"""FLOP counts of the ZeTT hypernetwork forward, from the shapes (one multiply-add = 2 FLOPs;
LayerNorm, GELU, softmax and gathers are left out: they are memory-bound and < 1 % here).

Per target row with a full decomposition of L positions (no padding), H hidden, I intermediate,
d base width, n_in = 2d (untied [E_in | E_out]):

  encoder layer at T query positions over L keys:
      projections  T * (2*H*H [Q] + 2*H*H [O] + 4*H*I [FFN])  +  L * 4*H*H [K, V]
      attention    T * 4*L*H                                   [Q K^T and P V]
  heads (untied: two)  2 * (4*H*I [ProjectorBlock] + 2*H*d [Dense])  +  2*H [bias]
  input projection (per source row, once per model on the server path)
                   2*n_in*H + 4*H*I

  ours (core/hypernet ForwardProjected, the server path): layers 1..n-1 at T = L, the last
      layer at T = 1 (only h_0 is read out), + heads.
  spec (scripts/parity/hypernet.py's reference, the same projected table): every layer at
      T = L, + heads.
"""


def layer(h, i, length, queries):
    return queries * (4 * h * h + 4 * h * i + 4 * length * h) + length * 4 * h * h


def heads(h, i, d, untied=True, bias=True):
    return (2 if untied else 1) * (4 * h * i + 2 * h * d) + (2 * h if bias else 0)


def per_row(h, i, d, layers, length, last_layer_first_only):
    total = 0
    for l in range(layers):
        last = l == layers - 1
        total += layer(h, i, length, 1 if (last and last_layer_first_only) else length)
    return total + heads(h, i, d)


def forward_flops(rows, h, i, d, layers, length, ours=True):
    """FLOPs of one forward over `rows` target rows of full length `length`."""
    return rows * per_row(h, i, d, layers, length, last_layer_first_only=ours)


def projection_flops(source_rows, h, i, d):
    return source_rows * (2 * 2 * d * h + 4 * h * i)
