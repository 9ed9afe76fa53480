//! Colours named by role, switched off as a whole when output is not for a colour terminal.

use console::Style;

#[derive(Debug, Clone)]
pub struct Theme {
    pub create: Style,
    pub update: Style,
    pub blocked: Style,
    pub note: Style,
    pub heading: Style,
    pub warning: Style,
}

impl Theme {
    pub fn new(colors: bool) -> Theme {
        let s = |f: fn(Style) -> Style| {
            if colors {
                f(Style::new().force_styling(true))
            } else {
                Style::new().force_styling(false)
            }
        };
        Theme {
            create: s(|s| s.green()),
            update: s(|s| s.yellow()),
            blocked: s(|s| s.red().bold()),
            note: s(|s| s.dim()),
            heading: s(|s| s.bold()),
            warning: s(|s| s.yellow().bold()),
        }
    }

    pub fn plain() -> Theme {
        Theme::new(false)
    }
}
