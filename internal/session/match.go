package session

import "path"

// pathMatch is path.Match: cookie names hold no "/", so its glob syntax
// ("wordpress_logged_in_*", "mt_blog*_user") reads naturally.
func pathMatch(pattern, name string) (bool, error) { return path.Match(pattern, name) }
