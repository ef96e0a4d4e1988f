"""Write a Python dump: read the tables, encode the values, write the files."""
