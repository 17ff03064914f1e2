// AXI4-lite write splitter: one slave port in front of N write-only slaves (the
// runtime-writable memories of a stitched design, rtl/common/axil_mem_write.sv).
//
// Address map: slave k owns byte addresses [k << SLAVE_BITS, (k << SLAVE_BITS) + 2**b_k),
// b_k = BITS[8*k +: 8] <= SLAVE_BITS its own address bits, which it sees. An address
// outside every slave's range, and every read, is answered SLVERR (rdata 0), like the
// slaves answer reads.
//
// One write at a time: AW and W are taken independently (any order, or together) into
// holding registers; then the write goes to its slave, AW and W offered together until
// each is taken; the slave's response is passed back and held until bready. The next
// AW and W are taken once the response has been accepted.
module axil_split #(
    parameter int N          = 1,
    parameter int SLAVE_BITS = 2,
    // slave k's address bits in bits [8*k +: 8] (default: SLAVE_BITS for every slave)
    parameter logic [8*N-1:0] BITS = {N{8'(SLAVE_BITS)}},
    localparam int SEL_BITS  = (N > 1) ? $clog2(N) : 1,
    localparam int ADDR_BITS = SLAVE_BITS + SEL_BITS
) (
    input  logic                    clk,
    input  logic                    rst_n,
    input  logic [ADDR_BITS-1:0]    s_axilite_awaddr,
    input  logic                    s_axilite_awvalid,
    output logic                    s_axilite_awready,
    input  logic [31:0]             s_axilite_wdata,
    input  logic [3:0]              s_axilite_wstrb,
    input  logic                    s_axilite_wvalid,
    output logic                    s_axilite_wready,
    output logic [1:0]              s_axilite_bresp,
    output logic                    s_axilite_bvalid,
    input  logic                    s_axilite_bready,
    input  logic [ADDR_BITS-1:0]    s_axilite_araddr,
    input  logic                    s_axilite_arvalid,
    output logic                    s_axilite_arready,
    output logic [31:0]             s_axilite_rdata,
    output logic [1:0]              s_axilite_rresp,
    output logic                    s_axilite_rvalid,
    input  logic                    s_axilite_rready,
    // slave k: bits [k*SLAVE_BITS +: SLAVE_BITS] of m_awaddr, [k*32 +: 32] of m_wdata, ...
    output logic [N*SLAVE_BITS-1:0] m_awaddr,
    output logic [N-1:0]            m_awvalid,
    input  logic [N-1:0]            m_awready,
    output logic [N*32-1:0]         m_wdata,
    output logic [N*4-1:0]          m_wstrb,
    output logic [N-1:0]            m_wvalid,
    input  logic [N-1:0]            m_wready,
    input  logic [N*2-1:0]          m_bresp,
    input  logic [N-1:0]            m_bvalid,
    output logic [N-1:0]            m_bready
);
  typedef enum logic [1:0] { TAKE, SEND, WAIT, RESP } state_t;
  state_t state_q;
  logic aw_held_q, w_held_q, aw_sent_q, w_sent_q;
  logic [ADDR_BITS-1:0] addr_q;
  logic [31:0] data_q;
  logic [3:0] strb_q;
  logic [1:0] resp_q;

  wire [SEL_BITS-1:0] sel = addr_q[SLAVE_BITS +: SEL_BITS];
  logic known;
  always_comb begin
    known = 1'b0;
    for (int k = 0; k < N; k++)
      if (32'(sel) == k) known = 32'(addr_q[SLAVE_BITS-1:0]) < (32'd1 << BITS[8*k +: 8]);
  end

  assign s_axilite_awready = state_q == TAKE && !aw_held_q;
  assign s_axilite_wready = state_q == TAKE && !w_held_q;
  assign s_axilite_bvalid = state_q == RESP;
  assign s_axilite_bresp = resp_q;

  always_comb begin
    for (int k = 0; k < N; k++) begin
      m_awaddr[k*SLAVE_BITS +: SLAVE_BITS] = addr_q[SLAVE_BITS-1:0];
      m_wdata[k*32 +: 32] = data_q;
      m_wstrb[k*4 +: 4] = strb_q;
      m_awvalid[k] = state_q == SEND && 32'(sel) == k && !aw_sent_q;
      m_wvalid[k] = state_q == SEND && 32'(sel) == k && !w_sent_q;
      m_bready[k] = state_q == WAIT && 32'(sel) == k;
    end
  end

  wire aw_done = aw_sent_q || |(m_awvalid & m_awready);
  wire w_done = w_sent_q || |(m_wvalid & m_wready);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      state_q <= TAKE;
      {aw_held_q, w_held_q, aw_sent_q, w_sent_q} <= '0;
      resp_q <= 2'd0;
    end else begin
      case (state_q)
        TAKE: begin
          if (s_axilite_awvalid && s_axilite_awready) begin
            addr_q <= s_axilite_awaddr;
            aw_held_q <= 1'b1;
          end
          if (s_axilite_wvalid && s_axilite_wready) begin
            data_q <= s_axilite_wdata;
            strb_q <= s_axilite_wstrb;
            w_held_q <= 1'b1;
          end
          if (aw_held_q && w_held_q) begin
            if (known) state_q <= SEND;
            else begin
              resp_q <= 2'd2;
              state_q <= RESP;
            end
          end
        end
        SEND: begin
          aw_sent_q <= aw_done;
          w_sent_q <= w_done;
          if (aw_done && w_done) state_q <= WAIT;
        end
        WAIT: if (m_bvalid[sel]) begin
          resp_q <= m_bresp[32'(sel)*2 +: 2];
          state_q <= RESP;
        end
        RESP: if (s_axilite_bready) begin
          {aw_held_q, w_held_q, aw_sent_q, w_sent_q} <= '0;
          state_q <= TAKE;
        end
      endcase
    end
  end

  // Reads: refused, one at a time.
  logic rvalid_q;
  assign s_axilite_arready = !rvalid_q;
  assign s_axilite_rvalid = rvalid_q;
  assign s_axilite_rdata = 32'd0;
  assign s_axilite_rresp = 2'd2;
  always_ff @(posedge clk) begin
    if (!rst_n) rvalid_q <= 1'b0;
    else if (s_axilite_arvalid && s_axilite_arready) rvalid_q <= 1'b1;
    else if (s_axilite_rready) rvalid_q <= 1'b0;
  end
  wire unused = &{1'b0, s_axilite_araddr};
endmodule
