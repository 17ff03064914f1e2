// AXI-stream FIFO on a RAM (ram_sdp, so RAM_STYLE picks BRAM/LUTRAM/URAM): for large
// depths. A two-word output buffer behind the synchronous read keeps one word per
// cycle under back-pressure. Accepts exactly DEPTH words; first word out 3 cycles
// after it went in.
module axis_fifo_ram #(
    parameter int    WIDTH     = 8,
    parameter int    DEPTH     = 1024,
    parameter RAM_STYLE = "auto"
) (
    input  logic                       clk,
    input  logic                       rst_n,
    input  logic [WIDTH-1:0]           s_axis_tdata,
    input  logic                       s_axis_tvalid,
    output logic                       s_axis_tready,
    output logic [WIDTH-1:0]           m_axis_tdata,
    output logic                       m_axis_tvalid,
    input  logic                       m_axis_tready,
    output logic [$clog2(DEPTH+1)-1:0] count
);
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam int CW = $clog2(DEPTH + 1);

  generate
    if (DEPTH < 2) begin : g_bad_depth
      $error("axis_fifo_ram: DEPTH must be at least 2 (use axis_fifo_srl for smaller)");
    end
  endgenerate

  logic [AW-1:0] wr_ptr, rd_ptr;
  logic [CW-1:0] ram_count;  // words in the RAM, not yet read out
  logic rd_inflight;  // a read was issued last cycle: rd_data is valid now
  logic [1:0] ob_count;  // words in the output buffer
  logic [WIDTH-1:0] ob0, ob1, rd_data;

  wire push = s_axis_tvalid && s_axis_tready;
  wire pop  = m_axis_tvalid && m_axis_tready;
  // Read when the output buffer has room for the word once this cycle's pop is done.
  wire rd_en = (ram_count != '0) &&
               ({1'b0, ob_count} + {2'b0, rd_inflight} - {2'b0, pop} < 3'd2);

  assign s_axis_tready = count < CW'(DEPTH);
  assign m_axis_tvalid = ob_count != 2'd0;
  assign m_axis_tdata  = ob0;

  ram_sdp #(
      .WIDTH(WIDTH),
      .DEPTH(DEPTH),
      .RAM_STYLE(RAM_STYLE)
  ) u_ram (
      .clk(clk),
      .wr_en(push),
      .wr_addr(wr_ptr),
      .wr_data(s_axis_tdata),
      .rd_en(rd_en),
      .rd_addr(rd_ptr),
      .rd_data(rd_data)
  );

  localparam logic [AW-1:0] LAST = AW'(DEPTH - 1);  // pointers wrap after this slot
  wire [AW-1:0] wr_next = (wr_ptr == LAST) ? '0 : wr_ptr + 1'b1;
  wire [AW-1:0] rd_next = (rd_ptr == LAST) ? '0 : rd_ptr + 1'b1;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr_ptr      <= '0;
      rd_ptr      <= '0;
      ram_count   <= '0;
      count       <= '0;
      rd_inflight <= 1'b0;
      ob_count    <= 2'd0;
    end else begin
      if (push) wr_ptr <= wr_next;
      if (rd_en) rd_ptr <= rd_next;
      ram_count <= ram_count + CW'(push) - CW'(rd_en);
      count <= count + CW'(push) - CW'(pop);
      rd_inflight <= rd_en;
      ob_count <= ob_count + 2'(rd_inflight) - 2'(pop);
    end
  end

  // Output buffer: ob0 is the head, ob1 the word behind it.
  always_ff @(posedge clk) begin
    if (pop) begin
      if (rd_inflight) begin
        if (ob_count == 2'd1) ob0 <= rd_data;
        else begin
          ob0 <= ob1;
          ob1 <= rd_data;
        end
      end else ob0 <= ob1;
    end else if (rd_inflight) begin
      if (ob_count == 2'd0) ob0 <= rd_data;
      else ob1 <= rd_data;
    end
  end
endmodule
