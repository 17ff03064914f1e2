// The output end of the MVAU and VVAU datapaths: PE accumulators, either streamed as they
// are (NO_ACT = 1) or turned into activations by per-channel thresholds, into an output
// FIFO whose slots the caller reserves with credits (so a push always finds room).
//
// Timing, relative to the accumulators of a group being complete in cycle t (acc_valid
// high, acc holding them; thr_rd pulsed in t-1 with that group's thr_addr):
//   NO_ACT = 1: pushed in t;
//   else:       compared with the threshold row read in t-1 (rtl/common/threshold_compare),
//               pushed in t+1 as ACT_VAL + count.
// The word is on m_axis one cycle after its push (rtl/common/axis_fifo_srl).
//
// THRES_FILE: ROWS words of PE*N_THRES*THR_BITS bits; bits
// [(pe*N_THRES + t)*THR_BITS +: THR_BITS] = threshold t of lane pe in that row (signed).
module mvau_output #(
    parameter int PE         = 1,
    parameter int ACC_BITS   = 16,
    parameter int NO_ACT     = 1,
    parameter int N_THRES    = 1,
    parameter int THR_BITS   = 17,
    parameter int OUT_BITS   = 16,
    parameter int ACT_VAL    = 0,
    parameter int ROWS       = 1,  // threshold rows (output groups)
    parameter int OBUF_DEPTH = 2,  // output FIFO words (the caller's credits)
    parameter THRES_FILE = "",
    localparam int RAW       = (ROWS > 1) ? $clog2(ROWS) : 1,
    localparam int OUT_W     = PE * OUT_BITS
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic                   thr_rd,
    input  logic [        RAW-1:0] thr_addr,
    input  logic                   acc_valid,
    input  logic [PE*ACC_BITS-1:0] acc,
    output logic [      OUT_W-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready
);
  localparam int T_W = PE * N_THRES * THR_BITS;

  logic push;
  logic [OUT_W-1:0] push_data;
  generate
    if (NO_ACT != 0) begin : g_no_act
      assign push = acc_valid;
      assign push_data = acc;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_thr = ^{thr_rd, thr_addr};
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_act
      logic [T_W-1:0] thr;
      logic v_cmp;
      ram_sdp #(
          .WIDTH(T_W),
          .DEPTH(ROWS),
          .INIT_FILE(THRES_FILE),
          .RAM_STYLE("auto"),
          .WRITEABLE(0)
      ) u_tmem (
          .clk(clk),
          .rd_en(thr_rd),
          .rd_addr(thr_addr),
          .rd_data(thr),
          .wr_en(1'b0),
          .wr_addr('0),
          .wr_data('0)
      );
      always_ff @(posedge clk) begin
        if (!rst_n) v_cmp <= 1'b0;
        else v_cmp <= acc_valid;
      end
      // Compare in t, count + ACT_VAL combinationally into the output FIFO in t+1.
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
      assign push = v_cmp;
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
    if (rst_n && push && !obuf_ready) $error("mvau_output: output FIFO overflow (credit bug)");
`endif
endmodule
