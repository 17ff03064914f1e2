// Weight streamer for MEM_MODE "internal_decoupled": owns the weight ROM and plays it as
// an endless AXI stream, one memory word per beat in address order (0 .. DEPTH-1, then
// again from 0), at one word per cycle. Reads are issued only when the word has a slot:
// the words in the output FIFO plus the read in flight stay below its depth, so the ROM
// needs no stall (a credit scheme, as in mvau_core). The FIFO (rtl/common axis_fifo_srl,
// 3 words) also registers m_axis, so nothing on m_axis is combinational from m_axis_tready.
module mvau_weight_streamer #(
    parameter int WIDTH     = 8,
    parameter int DEPTH     = 16,
    parameter INIT_FILE = "",
    parameter RAM_STYLE = "auto"
) (
    input  logic             clk,
    input  logic             rst_n,
    output logic [WIDTH-1:0] m_axis_tdata,
    output logic             m_axis_tvalid,
    input  logic             m_axis_tready
);
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam int FIFO_DEPTH = 3;  // the fewest that sustain one word per cycle

  logic [AW-1:0] addr;
  logic rd_valid;  // a word leaves the ROM this cycle
  logic [WIDTH-1:0] rd_data;
  logic [1:0] fifo_count;
  /* verilator lint_off UNUSEDSIGNAL */
  logic fifo_ready;  // always high when pushing: reads are issued only with a free slot
  /* verilator lint_on UNUSEDSIGNAL */
  logic run_q;

  wire rd_en = run_q && ({1'b0, fifo_count} + {2'b0, rd_valid} < 3'(FIFO_DEPTH));

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_q <= 1'b0;
      addr <= '0;
      rd_valid <= 1'b0;
    end else begin
      run_q <= 1'b1;
      rd_valid <= rd_en;
      if (rd_en) addr <= (addr == AW'(DEPTH - 1)) ? '0 : addr + 1'b1;
    end
  end

  mvau_rom #(
      .WIDTH(WIDTH),
      .DEPTH(DEPTH),
      .INIT_FILE(INIT_FILE),
      .RAM_STYLE(RAM_STYLE)
  ) u_rom (
      .clk(clk),
      .rd_en(rd_en),
      .rd_addr(addr),
      .rd_data(rd_data)
  );

  axis_fifo_srl #(
      .WIDTH(WIDTH),
      .DEPTH(FIFO_DEPTH)
  ) u_fifo (
      .clk(clk),
      .rst_n(rst_n),
      .s_axis_tdata(rd_data),
      .s_axis_tvalid(rd_valid),
      .s_axis_tready(fifo_ready),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready),
      .count(fifo_count)
  );
endmodule
