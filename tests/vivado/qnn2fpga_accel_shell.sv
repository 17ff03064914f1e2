// A stand-in accelerator with the shell's ports (the contract vivado_bitfile builds
// against): adds a register's value to each input byte. For the vivado_bitfile tests only.
module qnn2fpga_accel_shell #(
    parameter int IN_BYTES = 1,   // s_axis_0 bytes per word
    parameter int OUT_BYTES = 1,  // m_axis_0 bytes per word
    parameter int ADDR_BITS = 6   // s_axi_control address width
) (
    input  logic                   ap_clk,
    input  logic                   ap_rst_n,
    input  logic [IN_BYTES*8-1:0]  s_axis_0_tdata,
    input  logic                   s_axis_0_tvalid,
    output logic                   s_axis_0_tready,
    output logic [OUT_BYTES*8-1:0] m_axis_0_tdata,
    output logic                   m_axis_0_tvalid,
    input  logic                   m_axis_0_tready,
    output logic                   m_axis_0_tlast,
    input  logic [ADDR_BITS-1:0]   s_axi_control_awaddr,
    input  logic                   s_axi_control_awvalid,
    output logic                   s_axi_control_awready,
    input  logic [31:0]            s_axi_control_wdata,
    input  logic [3:0]             s_axi_control_wstrb,
    input  logic                   s_axi_control_wvalid,
    output logic                   s_axi_control_wready,
    output logic [1:0]             s_axi_control_bresp,
    output logic                   s_axi_control_bvalid,
    input  logic                   s_axi_control_bready,
    input  logic [ADDR_BITS-1:0]   s_axi_control_araddr,
    input  logic                   s_axi_control_arvalid,
    output logic                   s_axi_control_arready,
    output logic [31:0]            s_axi_control_rdata,
    output logic [1:0]             s_axi_control_rresp,
    output logic                   s_axi_control_rvalid,
    input  logic                   s_axi_control_rready
);
    logic [7:0] offset;

    assign s_axis_0_tready = m_axis_0_tready || !m_axis_0_tvalid;
    assign s_axi_control_awready = s_axi_control_awvalid && s_axi_control_wvalid && !s_axi_control_bvalid;
    assign s_axi_control_wready = s_axi_control_awready;
    assign s_axi_control_bresp = 2'b00;
    assign s_axi_control_arready = !s_axi_control_rvalid;
    assign s_axi_control_rresp = 2'b00;

    always_ff @(posedge ap_clk) begin
        if (!ap_rst_n) begin
            offset <= '0;
            m_axis_0_tvalid <= 1'b0;
            m_axis_0_tdata <= '0;
            m_axis_0_tlast <= 1'b0;
            s_axi_control_bvalid <= 1'b0;
            s_axi_control_rvalid <= 1'b0;
            s_axi_control_rdata <= '0;
        end else begin
            if (s_axis_0_tready) begin
                m_axis_0_tvalid <= s_axis_0_tvalid;
                m_axis_0_tdata <= (OUT_BYTES*8)'(s_axis_0_tdata[7:0] + offset);
                m_axis_0_tlast <= 1'b1;
            end
            if (s_axi_control_awready) begin
                offset <= s_axi_control_wdata[7:0];
                s_axi_control_bvalid <= 1'b1;
            end else if (s_axi_control_bready) begin
                s_axi_control_bvalid <= 1'b0;
            end
            if (s_axi_control_arvalid && s_axi_control_arready) begin
                s_axi_control_rdata <= {24'd0, offset};
                s_axi_control_rvalid <= 1'b1;
            end else if (s_axi_control_rready) begin
                s_axi_control_rvalid <= 1'b0;
            end
        end
    end
endmodule
