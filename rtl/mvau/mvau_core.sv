// MVAU datapath and control (see mvau.sv for the stream formats and parameters). The
// weights come from an embedded ROM (W_FROM_STREAM = 0) or from the s_axis_w stream, one
// memory word per weight tile, in memory order (W_FROM_STREAM = 1).
//
// Schedule: tiles (nf, sf), sf fastest, one per cycle when the input word (nf = 0), the
// weight word (stream modes) and, for a tile starting an output group, an output-buffer
// credit are all there. The input vector is consumed during the nf = 0 pass and kept in
// an SF-word buffer for the NF - 1 later passes, so s_axis_tready is low during those.
// DEPTHWISE = 1 (the VVAU, rtl/vvau): every tile reads an input word of PE*SIMD elements,
// element s*PE + pe for lane s of PE pe, and there is no input buffer.
//
// Pipeline, for a tile issued in cycle t:
//   t     issue: ROM / input-buffer reads, stream words registered
//   t+1   PE dot products over the SIMD word (mvau_dot), registered
//   t+2   accumulate; on the group's last tile, read the thresholds
//   t+3   NO_ACT: push the accumulators to the output FIFO
//         else:   compare with the thresholds, registered
//   t+4   else:   count + ACT_VAL, push to the output FIFO
// and the word is on m_axis one cycle after the push (axis_fifo_srl). LATENCY is the
// cycles from the issue of a group's last tile to its output word's first valid cycle.
//
// Back-pressure never stalls the pipeline: a group may start only while fewer than
// OBUF_DEPTH groups are in flight or waiting in the output FIFO (a credit counter), so
// every result has a FIFO slot. OBUF_DEPTH = 1 + ceil(LATENCY / SF) credits keep one
// tile per cycle when m_axis is always ready (a credit comes back SF + LATENCY cycles
// after it was taken).
module mvau_core #(
    parameter int MW            = 4,
    parameter int MH            = 4,
    parameter int SIMD          = 1,
    parameter int PE            = 1,
    parameter int IN_BITS       = 1,
    parameter int IN_SIGNED     = 0,
    parameter int IN_BIPOLAR    = 0,
    parameter int W_BITS        = 1,
    parameter int W_SIGNED      = 0,
    parameter int W_BIPOLAR     = 0,
    parameter int ACC_BITS      = 16,
    parameter int NO_ACT        = 1,
    parameter int N_THRES       = 1,
    parameter int THR_BITS      = 16,
    parameter int OUT_BITS      = 16,
    parameter int ACT_VAL       = 0,
    parameter int W_FROM_STREAM = 1,
    parameter int DEPTHWISE     = 0,
    parameter WEIGHT_FILE = "",
    parameter THRES_FILE = "",
    parameter RAM_STYLE = "auto",
    localparam int IN_W         = (DEPTHWISE != 0 ? PE : 1) * SIMD * IN_BITS,
    localparam int W_W          = PE * SIMD * W_BITS,
    localparam int OUT_W        = PE * OUT_BITS
) (
    input  logic             clk,
    input  logic             rst_n,
    input  logic [ IN_W-1:0] s_axis_tdata,
    input  logic             s_axis_tvalid,
    output logic             s_axis_tready,
    input  logic [  W_W-1:0] s_axis_w_tdata,
    input  logic             s_axis_w_tvalid,
    output logic             s_axis_w_tready,
    output logic [OUT_W-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  localparam int SF = MW / SIMD;
  localparam int NF = MH / PE;
  localparam int WDEPTH = SF * NF;
  localparam int T_W = PE * N_THRES * THR_BITS;
  localparam int SFW = (SF > 1) ? $clog2(SF) : 1;
  localparam int NFW = (NF > 1) ? $clog2(NF) : 1;
  localparam int WAW = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
  // Exact width of one SIMD word's dot product; no wider than the accumulator, since
  // accumulation is modulo 2^ACC_BITS (exact whenever the final sum fits).
  localparam int PROD_BITS = (IN_BIPOLAR != 0 && W_BIPOLAR != 0) ? 2 :
                             (W_BIPOLAR != 0) ? IN_BITS + 1 :
                             (IN_BIPOLAR != 0) ? W_BITS + 1 : IN_BITS + W_BITS + 1;
  localparam int DOT_EXACT = PROD_BITS + $clog2(SIMD);
  localparam int DOT_BITS = (DOT_EXACT < ACC_BITS) ? DOT_EXACT : ACC_BITS;
  localparam int LATENCY = (NO_ACT != 0) ? 4 : 5;
  localparam int OBUF_DEPTH = 1 + (LATENCY + SF - 1) / SF;
  localparam int CRW = $clog2(OBUF_DEPTH + 1);

  // --- issue ------------------------------------------------------------------------------
  logic run_q;  // low in reset: no handshakes then
  logic [SFW-1:0] sf;
  logic [NFW-1:0] nf;
  logic [WAW-1:0] waddr;  // nf * SF + sf
  logic [CRW-1:0] credits_used;

  wire  need_in = (DEPTHWISE != 0) || (nf == '0);
  wire  in_ok = !need_in || s_axis_tvalid;
  wire  w_ok = (W_FROM_STREAM == 0) || s_axis_w_tvalid;
  wire  cr_ok = (sf != '0) || (credits_used < CRW'(OBUF_DEPTH));
  wire  issue = run_q && in_ok && w_ok && cr_ok;
  wire  last_sf = (sf == SFW'(SF - 1));
  wire  pop = m_axis_tvalid && m_axis_tready;

  assign s_axis_tready   = run_q && need_in && w_ok && cr_ok;
  assign s_axis_w_tready = (W_FROM_STREAM != 0) && run_q && in_ok && cr_ok;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_q <= 1'b0;
      sf <= '0;
      nf <= '0;
      waddr <= '0;
      credits_used <= '0;
    end else begin
      run_q <= 1'b1;
      if (issue) begin
        sf <= last_sf ? '0 : sf + 1'b1;
        if (last_sf) nf <= (nf == NFW'(NF - 1)) ? '0 : nf + 1'b1;
        waddr <= (waddr == WAW'(WDEPTH - 1)) ? '0 : waddr + 1'b1;
      end
      credits_used <= credits_used + CRW'(issue && sf == '0) - CRW'(pop);
    end
  end

  // --- stage 1: operands ------------------------------------------------------------------
  logic v1, first1, last1;
  logic [NFW-1:0] nf1;
  logic [IN_W-1:0] in_q, x_word;
  logic [W_W-1:0] w_word;

  always_ff @(posedge clk) begin
    if (!rst_n) v1 <= 1'b0;
    else v1 <= issue;
    if (issue) begin
      first1 <= (sf == '0);
      last1  <= last_sf;
      nf1    <= nf;
    end
    if (issue && need_in) in_q <= s_axis_tdata;
  end

  generate
    if (DEPTHWISE == 0 && NF > 1 && SF > 1) begin : g_ibuf
      // The input vector, written in the nf = 0 pass, read in the others. The write is a
      // cycle late (from in_q), which is safe as the word is read again SF >= 2 cycles
      // later at the earliest, and gives the two ports different addresses: Yosys 0.23
      // then infers a simple dual-port RAM (its single-port LUTRAM mapping fails for
      // UltraScale+ at 512+ words).
      logic [IN_W-1:0] ibuf[SF];
      logic [IN_W-1:0] ibuf_q;
      logic [SFW-1:0] sf1;
      logic sel_buf;
      always_ff @(posedge clk) begin
        if (v1 && !sel_buf) ibuf[sf1] <= in_q;
        if (issue && !need_in) ibuf_q <= ibuf[sf];
        if (issue) begin
          sel_buf <= !need_in;
          sf1 <= sf;
        end
      end
      assign x_word = sel_buf ? ibuf_q : in_q;
    end else begin : g_no_ibuf
      // NF = 1 or DEPTHWISE: every word is used once. SF = 1: in_q holds the whole
      // vector; it only changes in the nf = 0 pass.
      assign x_word = in_q;
    end

    if (W_FROM_STREAM != 0) begin : g_w_stream
      logic [W_W-1:0] w_q;
      always_ff @(posedge clk) if (issue) w_q <= s_axis_w_tdata;
      assign w_word = w_q;
    end else begin : g_w_rom
      ram_sdp #(
          .WIDTH(W_W),
          .DEPTH(WDEPTH),
          .INIT_FILE(WEIGHT_FILE),
          .RAM_STYLE(RAM_STYLE),
          .WRITEABLE(0)
      ) u_wmem (
          .clk(clk),
          .rd_en(issue),
          .rd_addr(waddr),
          .rd_data(w_word),
          .wr_en(1'b0),
          .wr_addr('0),
          .wr_data('0)
      );
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_w_stream = ^{s_axis_w_tdata, s_axis_w_tvalid};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  // --- stage 2: dot products; stage 3: accumulate -----------------------------------------
  logic v2, first2, last2, v3;
  logic [NFW-1:0] nf2;
  logic [PE*ACC_BITS-1:0] acc;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v2 <= 1'b0;
      v3 <= 1'b0;
    end else begin
      v2 <= v1;
      v3 <= v2 && last2;
    end
    first2 <= first1;
    last2  <= last1;
    nf2    <= nf1;
  end

  // DEPTHWISE: PE p's own SIMD inputs, elements s*PE + p of the word.
  function automatic logic [SIMD*IN_BITS-1:0] own_lanes(logic [IN_W-1:0] word, int p);
    for (int s = 0; s < SIMD; s++) own_lanes[s*IN_BITS+:IN_BITS] = word[(s*PE+p)*IN_BITS+:IN_BITS];
  endfunction

  for (genvar p = 0; p < PE; p++) begin : g_pe
    logic [DOT_BITS-1:0] dot, dot_q;
    logic [ACC_BITS-1:0] acc_q;
    mvau_dot #(
        .SIMD(SIMD),
        .IN_BITS(IN_BITS),
        .IN_SIGNED(IN_SIGNED),
        .IN_BIPOLAR(IN_BIPOLAR),
        .W_BITS(W_BITS),
        .W_SIGNED(W_SIGNED),
        .W_BIPOLAR(W_BIPOLAR),
        .DOT_BITS(DOT_BITS)
    ) u_dot (
        .x  (DEPTHWISE != 0 ? own_lanes(x_word, p) : x_word[SIMD*IN_BITS-1:0]),
        .w  (w_word[p*SIMD*W_BITS+:SIMD*W_BITS]),
        .dot(dot)
    );
    always_ff @(posedge clk) begin
      dot_q <= dot;
      if (v2) acc_q <= (first2 ? '0 : acc_q) + ACC_BITS'($signed(dot_q));
    end
    assign acc[p*ACC_BITS+:ACC_BITS] = acc_q;
  end

  // --- activation and output buffer -------------------------------------------------------
  logic push;
  logic [OUT_W-1:0] push_data;
  generate
    if (NO_ACT != 0) begin : g_no_act
      assign push = v3;
      assign push_data = acc;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_nf2 = ^nf2;
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_act
      logic [T_W-1:0] thr;
      logic v4;
      ram_sdp #(
          .WIDTH(T_W),
          .DEPTH(NF),
          .INIT_FILE(THRES_FILE),
          .RAM_STYLE("auto"),
          .WRITEABLE(0)
      ) u_tmem (
          .clk(clk),
          .rd_en(v2 && last2),
          .rd_addr(nf2),
          .rd_data(thr),
          .wr_en(1'b0),
          .wr_addr('0),
          .wr_data('0)
      );
      always_ff @(posedge clk) begin
        if (!rst_n) v4 <= 1'b0;
        else v4 <= v3;
      end
      // Compare in t+3, count + ACT_VAL combinationally into the output FIFO in t+4.
      for (genvar p = 0; p < PE; p++) begin : g_pe_act
        threshold_compare #(
            .IN_BITS(ACC_BITS),
            .IN_SIGNED(1),
            .N_THRES(N_THRES),
            .THR_BITS(THR_BITS),
            .OUT_BITS(OUT_BITS),
            .ACT_VAL(ACT_VAL)
        ) u_cmp (
            .clk(clk),
            .en(1'b1),
            .x(acc[p*ACC_BITS+:ACC_BITS]),
            .thr(thr[p*N_THRES*THR_BITS+:N_THRES*THR_BITS]),
            .y(push_data[p*OUT_BITS+:OUT_BITS])
        );
      end
      assign push = v4;
    end
  endgenerate

  /* verilator lint_off UNUSEDSIGNAL */
  logic obuf_ready;  // always high when pushing: the credits reserve the slot
  logic [$clog2(OBUF_DEPTH+1)-1:0] obuf_count;
  /* verilator lint_on UNUSEDSIGNAL */
  axis_fifo_srl #(
      .WIDTH(OUT_W),
      .DEPTH(OBUF_DEPTH)
  ) u_obuf (
      .clk(clk),
      .rst_n(rst_n),
      .s_axis_tdata(push_data),
      .s_axis_tvalid(push),
      .s_axis_tready(obuf_ready),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready),
      .count(obuf_count)
  );

`ifndef SYNTHESIS
  always_ff @(posedge clk)
    if (rst_n && push && !obuf_ready) $error("mvau_core: output FIFO overflow (credit bug)");
`endif
endmodule
