/* placeholder so rc_tools has a source; removed when tools/lib gains real files */
int rc_tools_placeholder_;
int rc_tools_placeholder_ = 0;
