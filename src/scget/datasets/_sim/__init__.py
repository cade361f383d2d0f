"""The multiome simulator: genome, regulation, counts, files, designs."""
