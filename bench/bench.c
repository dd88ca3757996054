/* placeholder: bench/bench.c */
int main(void) { return 0; }
