"""The parts of ``PanelGrid``: its sections, its history reads and the buffers they travel in,
run groups, and the live reads of running runs."""
