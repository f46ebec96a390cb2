"""The dashboard's security headers, one policy for both apps that serve it (`leadflow
dashboard` and `leadflow serve`), built with `secure` (typed header builders).

The page loads only its own script, style sheet and data (no inline code, no CDN), so the
Content-Security-Policy allows nothing but this origin; it may not be framed (clickjacking),
and it sends no referrer. Cache-Control is left to the routes (`no-cache`: always fresh)."""

from __future__ import annotations

from secure import (
    ContentSecurityPolicy,
    CrossOriginOpenerPolicy,
    CrossOriginResourcePolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    XContentTypeOptions,
    XFrameOptions,
)

DASHBOARD_HEADERS = Secure(
    csp=(ContentSecurityPolicy()
         .default_src("'none'")
         .script_src("'self'")
         .style_src("'self'")
         .img_src("'self'", "data:")  # the page's favicon is an empty data: URL
         .connect_src("'self'")
         .base_uri("'none'")
         .form_action("'none'")
         .frame_ancestors("'none'")),
    xfo=XFrameOptions().deny(),
    xcto=XContentTypeOptions().nosniff(),
    referrer=ReferrerPolicy().no_referrer(),
    coop=CrossOriginOpenerPolicy().same_origin(),
    corp=CrossOriginResourcePolicy().same_origin(),
    permissions=PermissionsPolicy().geolocation().microphone().camera(),
)
