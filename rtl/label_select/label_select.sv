// Top-K label select: for every vector of LABELS values, the indices of the K largest,
// largest first, equal values in index order (numpy argsort(-x, kind="stable")[:K],
// ONNX TopK largest=1 sorted=1).
//
// Streams (element i of a word at bits [i*BITS +: BITS]):
//   s_axis_tdata: PE values of IN_BITS (two's complement if IN_SIGNED; a BIPOLAR value,
//                 1 = +1 and 0 = -1, orders correctly as IN_SIGNED = 0), labels w*PE ..
//                 w*PE+PE-1 in word w = 0 .. LABELS/PE-1 of a vector.
//   m_axis_tdata: one index per word, unsigned, zero-extended to OUT_BITS; K words per
//                 vector.
//
// Each input word is merged into a running top-K list in the cycle it arrives: every
// candidate (K list entries, PE new values) gets its rank by counting who beats it
// (K*PE + PE*(PE-1)/2 comparators), and list slot s takes the candidate of rank s. The
// last word of a vector loads the result into an output register bank, which then
// shifts out one index per cycle while the next vector streams in.
//
// Timing without stalls, W = LABELS/PE words per vector: the first index of a vector
// leaves 1 cycle after its last word went in; the last word of the next vector goes in
// no earlier than the cycle the current vector's last index leaves. So V back-to-back
// vectors take W + K + (V-1)*max(W, K) cycles from the first input handshake to the
// last output handshake (V = NUM_VECTORS per frame; for one frame with W >= K that is
// NUM_VECTORS*W + K). NUM_VECTORS does not change the hardware.
module label_select #(
    parameter int LABELS      = 10,
    parameter int PE          = 1,
    parameter int K           = 1,
    parameter int IN_BITS     = 8,
    parameter int IN_SIGNED   = 1,
    parameter int OUT_BITS    = 4,
    /* verilator lint_off UNUSEDPARAM */
    parameter int NUM_VECTORS = 1  // documentation only (cycle estimate)
    /* verilator lint_on UNUSEDPARAM */
) (
    input  logic                  clk,
    input  logic                  rst_n,
    input  logic [PE*IN_BITS-1:0] s_axis_tdata,
    input  logic                  s_axis_tvalid,
    output logic                  s_axis_tready,
    output logic [  OUT_BITS-1:0] m_axis_tdata,
    output logic                  m_axis_tvalid,
    input  logic                  m_axis_tready
);
  localparam int W = LABELS / PE;  // input words per vector
  localparam int VW = IN_BITS + 1;  // values compared as signed VW-bit numbers
  localparam int IXW = (LABELS > 1) ? $clog2(LABELS) : 1;  // index width
  localparam int NC = K + PE;  // merge candidates: the list, then the new values
  localparam int RW = $clog2(NC + 1);  // rank width
  localparam int WW = (W > 1) ? $clog2(W) : 1;
  localparam int KW = $clog2(K + 1);

  generate
    if (LABELS < 1 || PE < 1 || LABELS % PE != 0) begin : g_bad_fold
      $error("label_select: PE must divide LABELS");
    end
    if (K < 1 || K > LABELS) begin : g_bad_k
      $error("label_select: K must be in 1 .. LABELS");
    end
    if (OUT_BITS < IXW) begin : g_bad_out
      $error("label_select: OUT_BITS cannot hold every index 0 .. LABELS-1");
    end
  endgenerate

  // ---- state ------------------------------------------------------------------------------
  logic [WW-1:0] word;  // word of the current vector
  logic [K*VW-1:0] top_val;  // running top-K, best first
  logic [K*IXW-1:0] top_idx;
  logic [K-1:0] top_ok;  // slot holds a value (slots fill from 0)
  logic [K*IXW-1:0] out_idx;  // indices being sent, next at slot 0
  logic [KW-1:0] out_left;  // indices still to send

  wire first = word == '0;
  wire last = word == WW'(W - 1);
  wire pop = m_axis_tvalid && m_axis_tready;
  // The last word of a vector needs the output bank, free or being emptied this cycle.
  assign s_axis_tready = !last || out_left == '0 || (out_left == KW'(1) && m_axis_tready);
  wire push = s_axis_tvalid && s_axis_tready;

  assign m_axis_tvalid = out_left != '0;
  assign m_axis_tdata = OUT_BITS'(out_idx[IXW-1:0]);

  // ---- merge: rank every candidate --------------------------------------------------------
  logic [NC*VW-1:0] c_val;
  logic [NC*IXW-1:0] c_idx;
  logic [NC-1:0] c_ok;
  logic [NC*RW-1:0] c_rank;  // number of candidates that beat this one
  logic [K*IXW-1:0] m_idx;  // merged list
  logic [K*VW-1:0] m_val;
  logic [K-1:0] m_ok;

  always_comb begin
    logic [VW-1:0] x;
    for (int i = 0; i < K; i++) begin
      c_val[i*VW+:VW] = top_val[i*VW+:VW];
      c_idx[i*IXW+:IXW] = top_idx[i*IXW+:IXW];
      c_ok[i] = top_ok[i] && !first;  // a new vector starts from an empty list
    end
    for (int j = 0; j < PE; j++) begin
      x = (IN_SIGNED != 0) ? VW'($signed(s_axis_tdata[j*IN_BITS+:IN_BITS]))
                           : VW'(s_axis_tdata[j*IN_BITS+:IN_BITS]);
      c_val[(K+j)*VW+:VW] = x;
      c_idx[(K+j)*IXW+:IXW] = IXW'(word * PE + j);
      c_ok[K+j] = 1'b1;
    end
  end

  // Who beats whom: list entry i beats list entry l iff i < l (the list is ranked); list
  // entry i beats new value j iff it holds a value >= it (its index is lower); new value
  // j beats new value k iff it is larger, or equal with j < k.
  logic [K*PE-1:0] list_wins;  // bit i*PE + j: list entry i beats new value j
  logic [PE*PE-1:0] new_wins;  // bit j*PE + k: new value j beats new value k
  for (genvar i = 0; i < K; i++) begin : g_list_vs_new
    for (genvar j = 0; j < PE; j++) begin : g_new
      assign list_wins[i*PE+j] = c_ok[i] &&
          ($signed(c_val[i*VW+:VW]) >= $signed(c_val[(K+j)*VW+:VW]));
    end
  end
  for (genvar j = 0; j < PE; j++) begin : g_new_vs_new
    for (genvar k = 0; k < PE; k++) begin : g_other
      if (j < k) begin : g_before
        assign new_wins[j*PE+k] = $signed(c_val[(K+j)*VW+:VW]) >= $signed(c_val[(K+k)*VW+:VW]);
      end else if (j > k) begin : g_after
        assign new_wins[j*PE+k] = $signed(c_val[(K+j)*VW+:VW]) > $signed(c_val[(K+k)*VW+:VW]);
      end else begin : g_self
        assign new_wins[j*PE+k] = 1'b0;
      end
    end
  end

  always_comb begin
    logic [RW-1:0] r;
    for (int i = 0; i < K; i++) begin
      r = RW'(i);
      for (int j = 0; j < PE; j++) r = r + RW'(!list_wins[i*PE+j]);
      c_rank[i*RW+:RW] = r;
    end
    for (int j = 0; j < PE; j++) begin
      r = '0;
      for (int i = 0; i < K; i++) r = r + RW'(list_wins[i*PE+j]);
      for (int k = 0; k < PE; k++) r = r + RW'(new_wins[k*PE+j]);
      c_rank[(K+j)*RW+:RW] = r;
    end
    // Ranks are a permutation of 0 .. NC-1: slot s takes the one candidate of rank s.
    m_val = '0;
    m_idx = '0;
    m_ok = '0;
    for (int s = 0; s < K; s++) begin
      for (int c = 0; c < NC; c++) begin
        if (c_rank[c*RW+:RW] == RW'(s)) begin
          m_val[s*VW+:VW] = m_val[s*VW+:VW] | c_val[c*VW+:VW];
          m_idx[s*IXW+:IXW] = m_idx[s*IXW+:IXW] | c_idx[c*IXW+:IXW];
          m_ok[s] = m_ok[s] | c_ok[c];
        end
      end
    end
  end

  // ---- registers --------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      word <= '0;
      top_ok <= '0;
      out_left <= '0;
    end else begin
      if (push) begin
        word <= last ? '0 : word + 1'b1;
        top_ok <= m_ok;
      end
      if (push && last) out_left <= KW'(K);
      else if (pop) out_left <= out_left - 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    if (push) begin
      top_val <= m_val;
      top_idx <= m_idx;
    end
    if (push && last) out_idx <= m_idx;
    else if (pop) out_idx <= out_idx >> IXW;
  end
endmodule
